using Microsoft.Playwright;

namespace Parley.Testing;

/// <summary>
/// MixedCall is the people of one test call in Chromium and Firefox pages, joined in order; it
/// waits until every page plays every other one (video and audio, from the page's own getStats())
/// and shows nobody else.
/// </summary>
public sealed class MixedCall(IBrowser chromium, Firefox firefox, Uri baseUri, string room, string? initScript = null) : IAsyncDisposable
{
    /// <summary>Names are the participants' names, in joining order.</summary>
    public static readonly string[] Names = ["Ada", "Grace", "Alan", "Edsger"];

    private readonly List<IPageProbe> _people = [];

    public IReadOnlyList<IPageProbe> People => _people;

    /// <summary>JoinAsync opens the room in <paramref name="browser"/> (chromium or firefox) as <paramref name="name"/> and joins.</summary>
    public async Task<IPageProbe> JoinAsync(string browser, string name, CancellationToken cancellationToken)
    {
        if (browser == "firefox")
        {
            var p = await FirefoxParticipant.OpenRoomAsync(firefox, baseUri, room, name, initScript);
            _people.Add(p);
            var agent = await p.EvaluateAsync<string>("navigator.userAgent");
            if (!agent.Contains("Firefox/", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{name}'s page is not Firefox: {agent}");
            }
            await p.JoinAsync(cancellationToken);
            return p;
        }
        var c = await Participant.OpenRoomAsync(chromium, baseUri, room, name, initScript);
        _people.Add(c);
        await c.JoinAsync();
        return c;
    }

    /// <summary>WaitForEveryoneAsync waits until each page plays exactly the others.</summary>
    public async Task WaitForEveryoneAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        foreach (var p in _people)
        {
            await TileFlow.WaitForAllAsync(p, [.. _people.Where(o => o != p).Select(o => o.Name)], cancellationToken, timeout ?? TimeSpan.FromSeconds(45));
        }
    }

    /// <summary>WaitForAsync polls <paramref name="expression"/> on every page until it is true there, or throws saying <paramref name="what"/> it waited for.</summary>
    public async Task WaitForAsync(string expression, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        foreach (var p in _people)
        {
            var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            while (!await p.EvaluateAsync<bool>(expression))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{p.Name}: waited for {what}.");
                }
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _people)
        {
            if (p is IAsyncDisposable d)
            {
                await d.DisposeAsync();
            }
        }
    }
}
