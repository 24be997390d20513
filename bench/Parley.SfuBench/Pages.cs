using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.SfuBench;

/// <summary>PcTimes is one RTCPeerConnection as sfubench.js saw it (Date.now() ms; 0: not yet).</summary>
internal sealed record PcTimes(double Created, double Connected, double Closed, string State);

/// <summary>Watch is what one page's <c>__sfuBench.arm</c> watch found (Date.now() ms).</summary>
internal sealed record Watch(bool Complete, double Armed, int From, double Click, Dictionary<string, double> Mode,
    Dictionary<string, double> Seen, double At, int Polls, double PollMeanMs, PcTimes[] Pcs)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>NewPcs are the connections made after the watch was armed.</summary>
    public IEnumerable<PcTimes> NewPcs => Pcs.Skip(From);

    public IEnumerable<PcTimes> OldPcs => Pcs.Take(From);
}

/// <summary>Pages opens benchmark pages: Parley.Testing's Participant with the small camera, sfubench.js and the probe.</summary>
internal static class Pages
{
    /// <summary>Names of the participants, in join order.</summary>
    public static readonly string[] Names = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Niklaus", "Radia", "Tony"];

    private static readonly string InitScript = Participant.SmallCamera + "\n" + ReadScript();

    public static string NewRoom(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";

    /// <summary>
    /// OpenAsync opens <paramref name="room"/>'s page as <paramref name="name"/> and waits for the live
    /// camera preview; with <paramref name="gaps"/>, the page also runs Parley.Testing's <see cref="GapWatch"/>.
    /// </summary>
    public static async Task<Participant> OpenAsync(IBrowser browser, Uri baseUri, string room, string name, bool gaps = false)
    {
        var p = await Participant.OpenRoomAsync(browser, baseUri, room, name, gaps ? InitScript + "\n" + GapWatch.Script : InitScript);
        await p.Page.Locator(".preview[data-video='on']").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 15_000 });
        return p;
    }

    /// <summary>ArmAsync starts the page's tile watch for <paramref name="names"/>.</summary>
    public static Task ArmAsync(Participant p, IEnumerable<string> names, bool newConnectionsOnly, int minRise, int timeoutMs) =>
        p.Page.EvaluateAsync("(a) => window.__sfuBench.arm(a.names, a.options)", new
        {
            names = names.ToArray(),
            options = new { newConnectionsOnly, minRise, pollMs = 50, timeoutMs },
        });

    /// <summary>DoneAsync waits for the page's watch to finish and returns what it found.</summary>
    public static async Task<Watch> DoneAsync(Participant p)
    {
        var json = await p.Page.EvaluateAsync<string>("async () => JSON.stringify(await window.__sfuBench.done)");
        return JsonSerializer.Deserialize<Watch>(json, Watch.Json) ?? throw new InvalidOperationException("no watch result");
    }

    /// <summary>ModeAsync is the room's mode as the page shows it.</summary>
    public static Task<string?> ModeAsync(Participant p) => p.Page.Locator("#meeting").GetAttributeAsync("data-mode");

    /// <summary>WaitForEveryoneAsync waits (a coarse C# poll, no timing) until every page plays every other page's media.</summary>
    public static async Task WaitForEveryoneAsync(IReadOnlyList<Participant> people, TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var p in people)
        {
            await TileFlow.WaitForAllAsync(p, [.. people.Where(o => o != p).Select(o => o.Name)], cancellationToken, timeout);
        }
    }

    public static async Task CloseAllAsync(IEnumerable<Participant> people)
    {
        foreach (var p in people)
        {
            await p.DisposeAsync();
        }
    }

    private static string ReadScript()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.SfuBench.sfubench.js")
            ?? throw new InvalidOperationException("sfubench.js is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
