using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.Sfu.Tests;

/// <summary>SfuCall is one SFU test's world: a Janus of its own and Parley pointed at it.</summary>
public sealed class SfuCall : IAsyncDisposable
{
    private readonly List<Participant> _people = [];

    private SfuCall(JanusServer janus, ParleyTestServer parley)
    {
        Janus = janus;
        Parley = parley;
    }

    public JanusServer Janus { get; }

    public ParleyTestServer Parley { get; }

    public string Room { get; } = TestRooms.New();

    public static async Task<SfuCall> StartAsync(string name, int meshMax, CancellationToken cancellationToken)
    {
        var janus = await JanusServer.StartAsync(name, cancellationToken);
        try
        {
            var settings = new Dictionary<string, string?>(janus.ParleySettings) { ["Parley:Sfu:MeshMax"] = meshMax.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var parley = await ParleyTestServer.StartAsync(settings, cancellationToken);
            var call = new SfuCall(janus, parley);
            await call.WaitForJanusAsync(cancellationToken);
            return call;
        }
        catch
        {
            await janus.DisposeAsync();
            throw;
        }
    }

    /// <summary>WaitForJanusAsync waits until Parley has a Janus session (it connects in the background).</summary>
    public async Task WaitForJanusAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Parley.Logs.Lines.Any(l => l.Contains("Janus is up", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Parley did not connect to Janus:\n" + string.Join('\n', Parley.Logs.Lines.TakeLast(20)));
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>JoinAsync opens the meeting page as <paramref name="name"/> and joins.</summary>
    public async Task<Participant> JoinAsync(IBrowser browser, string name)
    {
        var p = await Participant.OpenRoomAsync(browser, Parley.BaseUri, Room, name);
        _people.Add(p);
        await p.JoinAsync();
        return p;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _people)
        {
            await p.DisposeAsync();
        }
        var output = TestContext.Current.TestOutputHelper;
        foreach (var line in Parley.Logs.Lines.Where(l => l.Contains("Parley.Sfu", StringComparison.Ordinal) || l.Contains("Janus", StringComparison.Ordinal)))
        {
            output?.WriteLine($"[parley] {line}");
        }
        await Parley.DisposeAsync();
        await Janus.DisposeAsync();
    }
}

/// <summary>SfuCallTests: calls through the media server, in real Chromium pages, with Janus in its own namespace.</summary>
public sealed class SfuCallTests(Chromium chromium)
{
    private readonly IBrowser _browser = chromium.Browser;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_participants_past_MeshMax_see_and_hear_each_other_through_the_media_server()
    {
        await using var call = await SfuCall.StartAsync("sfu-two", meshMax: 1, Ct);
        var ada = await call.JoinAsync(_browser, "Ada");
        var grace = await call.JoinAsync(_browser, "Grace");

        await Expect(ada.Page.Locator("#meeting")).ToHaveAttributeAsync("data-mode", "sfu");
        await Expect(grace.Page.Locator("#meeting")).ToHaveAttributeAsync("data-mode", "sfu");
        await TileFlow.WaitForAllAsync(ada, ["Grace"], Ct);
        await TileFlow.WaitForAllAsync(grace, ["Ada"], Ct);
        Assert.Equal(2, await TileFlow.OpenConnectionsAsync(ada));
        Assert.Equal(2, await TileFlow.OpenConnectionsAsync(grace));
    }
}
