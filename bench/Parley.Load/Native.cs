using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

[assembly: DisableRuntimeMarshalling]

namespace Parley.Load;

/// <summary>
/// Native is the slice of Linux the generator drives directly: non-blocking sockets, epoll and
/// eventfd. Going below <see cref="System.Net.Sockets.Socket"/> keeps the client's cost per
/// message to the system calls themselves, so the generator is never the bottleneck.
/// </summary>
internal static unsafe partial class Native
{
    private const string Libc = "libc.so.6";

    public const int AfInet = 2;
    public const int SockStream = 1;
    public const int SockNonBlock = 0x800;
    public const int SockCloExec = 0x80000;
    public const int SolSocket = 1;
    public const int SoError = 4;
    public const int SoLinger = 13;
    public const int SoReuseAddr = 2;
    public const int SolIp = 0;
    public const int IpBindAddressNoPort = 24;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;

    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EInProgress = 115;

    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;

    public const int EfdNonBlock = 0x800;
    public const int EfdCloExec = 0x80000;

    public const int RlimitNoFile = 7;
    public const int PrSetTimerSlack = 29;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int connect(int fd, SockAddrIn* address, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int bind(int fd, SockAddrIn* address, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_pwait2(int epfd, EpollEvent* events, int maxEvents, TimeSpec* timeout, void* sigmask);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int eventfd(uint initial, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getrlimit(int resource, RLimit* limit);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int setrlimit(int resource, RLimit* limit);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    public static int Errno => Marshal.GetLastSystemError();

    /// <summary>RaiseFileLimit lifts the soft open-file limit to the hard one and returns it.</summary>
    public static long RaiseFileLimit()
    {
        RLimit limit;
        if (getrlimit(RlimitNoFile, &limit) != 0)
        {
            return -1;
        }
        limit.Current = limit.Max;
        _ = setrlimit(RlimitNoFile, &limit);
        _ = getrlimit(RlimitNoFile, &limit);
        return (long)limit.Current;
    }

    /// <summary>SetIntOption sets an integer socket option, ignoring failure (all are tuning).</summary>
    public static void SetIntOption(int fd, int level, int name, int value) =>
        _ = setsockopt(fd, level, name, &value, sizeof(int));
}

/// <summary>EpollEvent is <c>struct epoll_event</c>, packed on x86-64.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

/// <summary>SockAddrIn is <c>struct sockaddr_in</c>: port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockAddrIn
{
    public ushort Family;
    public ushort Port;
    public uint Address;
    public ulong Zero;

    public static SockAddrIn From(System.Net.IPAddress address, int port)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (!address.TryWriteBytes(bytes, out var written) || written != 4)
        {
            throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
        }
        return new SockAddrIn
        {
            Family = Native.AfInet,
            Port = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)port),
            Address = MemoryMarshal.Read<uint>(bytes),
        };
    }
}

/// <summary>TimeSpec is <c>struct timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>RLimit is <c>struct rlimit</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RLimit
{
    public ulong Current;
    public ulong Max;
}
