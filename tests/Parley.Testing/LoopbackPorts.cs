using System.Net;
using System.Net.Sockets;

namespace Parley.Testing;

/// <summary>LoopbackPorts finds ports for servers a test starts on a fixed address (so it can start them again there).</summary>
public static class LoopbackPorts
{
    /// <summary>Free is a loopback TCP port nothing listens on now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
