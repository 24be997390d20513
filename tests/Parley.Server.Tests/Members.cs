using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Members are clients joined to one room in turn, each having read the <c>peer-joined</c> of
/// every later one, so a test starts with quiet inboxes. Disposing them disconnects them all.
/// </summary>
internal sealed class Members : IAsyncDisposable
{
    private readonly List<SignalingClient> _clients = [];

    public static async Task<Members> JoinAsync(Uri uri, string room, CancellationToken cancellationToken, params string[] names)
    {
        var members = new Members();
        try
        {
            foreach (var name in names)
            {
                var (client, _) = await SignalingClient.ConnectAndJoinAsync(uri, room, name, cancellationToken);
                foreach (var earlier in members._clients)
                {
                    await earlier.ReceiveTypeAsync("peer-joined", cancellationToken);
                }
                members._clients.Add(client);
            }
            return members;
        }
        catch
        {
            await members.DisposeAsync();
            throw;
        }
    }

    public void Deconstruct(out SignalingClient first, out SignalingClient second) =>
        (first, second) = (_clients[0], _clients[1]);

    public void Deconstruct(out SignalingClient first, out SignalingClient second, out SignalingClient third) =>
        (first, second, third) = (_clients[0], _clients[1], _clients[2]);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
    }
}
