using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// Firefox is Debian's Firefox ESR with fake camera and microphone, driven over WebDriver BiDi by
/// tests/firefox/driver.mjs (puppeteer-core; Playwright's Firefox needs a patched build that
/// cannot be installed here). One browser for a test class (a class fixture), one browser context
/// per participant, as with <see cref="Chromium"/>. The driver's log is in <c>firefox-logs/</c>.
/// </summary>
public sealed class Firefox : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _consoles = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _writeGate = new();
    private ProcessLog? _log;
    private Process? _driver;
    private long _nextId;

    /// <summary>Version is the browser's, as the driver reports it (e.g. firefox/153.8.0).</summary>
    public string Version { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var folder = Path.Combine(ParleyTestServer.SourceRoot, "tests", "firefox");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "puppeteer-core")))
        {
            throw new InvalidOperationException($"puppeteer-core is not installed in {folder}: run `npm ci` there (scripts/test.sh does).");
        }
        _log = ProcessLog.Open("firefox driver", "firefox-logs", "driver");
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add("driver.mjs");
        _driver = new Process { StartInfo = start };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        _driver.OutputDataReceived += (_, e) => OnLine(e.Data);
        _driver.ErrorDataReceived += (_, e) => _log.Append(e.Data is null ? null : $"stderr: {e.Data}");
        _driver.Start();
        _driver.BeginOutputReadLine();
        _driver.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            Version = await _ready.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Firefox did not start within {StartTimeout.TotalSeconds} s:\n{string.Join('\n', _log.Lines.TakeLast(ProcessLog.TailLines))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_driver is { } driver)
        {
            try
            {
                driver.StandardInput.Close();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await driver.WaitForExitAsync(timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
            {
                driver.Kill(entireProcessTree: true);
            }
            driver.Dispose();
        }
        _log?.Dispose();
    }

    /// <summary>OpenAsync opens <paramref name="url"/> in a browser context of its own, running <paramref name="scripts"/> first in every document; it returns the page's key.</summary>
    internal async Task<string> OpenAsync(Uri url, IEnumerable<string> scripts)
    {
        var value = await RequestAsync(new JsonObject { ["cmd"] = "open", ["url"] = url.ToString(), ["scripts"] = new JsonArray([.. scripts.Select(s => JsonValue.Create(s))]) });
        var key = value?.GetValue<string>() ?? throw new InvalidOperationException("The driver opened no page.");
        _consoles.TryAdd(key, new ConcurrentQueue<string>());
        return key;
    }

    /// <summary>EvaluateAsync evaluates a JavaScript <paramref name="expression"/> in the page (a promise is awaited) and returns its value.</summary>
    internal Task<JsonNode?> EvaluateAsync(string page, string expression) =>
        RequestAsync(new JsonObject { ["cmd"] = "eval", ["page"] = page, ["expression"] = expression });

    internal Task CloseAsync(string page) => RequestAsync(new JsonObject { ["cmd"] = "close", ["page"] = page });

    /// <summary>Console is what the page printed to its console, in order.</summary>
    internal IEnumerable<string> Console(string page) => _consoles.TryGetValue(page, out var lines) ? lines : [];

    private async Task<JsonNode?> RequestAsync(JsonObject request)
    {
        var id = Interlocked.Increment(ref _nextId);
        request["id"] = id;
        var answer = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var line = request.ToJsonString();
        lock (_writeGate)
        {
            _driver!.StandardInput.WriteLine(line);
            _driver.StandardInput.Flush();
        }
        try
        {
            return await answer.Task.WaitAsync(RequestTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The Firefox driver did not answer {request["cmd"]} within {RequestTimeout.TotalSeconds} s:\n{string.Join('\n', _log!.Lines.TakeLast(ProcessLog.TailLines))}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        JsonNode? msg;
        try
        {
            msg = JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            _log!.Append(line);
            return;
        }
        if (msg?["event"]?.GetValue<string>() is { } kind)
        {
            if (kind == "ready")
            {
                _log!.Append(line);
                _ready.TrySetResult(msg["version"]?.GetValue<string>() ?? "");
            }
            else if (kind == "console" && msg["page"]?.GetValue<string>() is { } page)
            {
                _consoles.GetOrAdd(page, _ => new ConcurrentQueue<string>()).Enqueue(msg["text"]?.GetValue<string>() ?? "");
            }
            return;
        }
        _log!.Append(line.Length > 2000 ? line[..2000] + "…" : line);
        if (msg?["id"]?.GetValue<long>() is { } id && _pending.TryGetValue(id, out var answer))
        {
            if (msg["ok"]?.GetValue<bool>() == true)
            {
                answer.TrySetResult(msg["value"]?.DeepClone());
            }
            else
            {
                answer.TrySetException(new InvalidOperationException($"Firefox: {msg["error"]?.GetValue<string>()}"));
            }
        }
    }
}

/// <summary>
/// FirefoxParticipant is one person in a test on a Firefox page (see <see cref="Firefox"/>), with
/// probe.js in it. The page is driven through the DOM, as a user would: type the name, press Join.
/// </summary>
public sealed class FirefoxParticipant : IPageProbe, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    private readonly Firefox _firefox;
    private readonly string _page;

    private FirefoxParticipant(Firefox firefox, string page, string name)
    {
        _firefox = firefox;
        _page = page;
        Name = name;
    }

    public string Name { get; }

    /// <summary>OpenRoomAsync opens room <paramref name="room"/>'s meeting page at <paramref name="baseUri"/> as <paramref name="name"/>, at the pre-join step.</summary>
    public static async Task<FirefoxParticipant> OpenRoomAsync(Firefox firefox, Uri baseUri, string room, string name, string? initScript = null)
    {
        var scripts = initScript is null ? new[] { Participant.ProbeScript } : [initScript, Participant.ProbeScript];
        var page = await firefox.OpenAsync(new Uri(baseUri, $"/r/{room}"), scripts);
        return new FirefoxParticipant(firefox, page, name);
    }

    /// <summary>JoinAsync types the name, presses Join and waits to be in the meeting.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        await WaitForAsync($$"""
            (() => {
              const button = document.querySelector('#join');
              if (!button || button.disabled) return false;
              const input = document.querySelector('#name');
              input.value = {{JsonSerializer.Serialize(Name)}};
              input.dispatchEvent(new Event('input', { bubbles: true }));
              button.click();
              return true;
            })()
            """, "the Join button to be ready", TimeSpan.FromSeconds(20), cancellationToken);
        await WaitForAsync("!document.querySelector('#meeting').hidden", "to be in the meeting", TimeSpan.FromSeconds(20), cancellationToken);
    }

    /// <summary>EvaluateAsync evaluates a JavaScript expression (a promise is awaited) and reads its value.</summary>
    public async Task<T> EvaluateAsync<T>(string expression)
    {
        var value = await _firefox.EvaluateAsync(_page, expression);
        return value is null ? default! : value.Deserialize<T>(Json)!;
    }

    public async Task<T> ProbeAsync<T>(string probeCall)
    {
        var json = await EvaluateAsync<string>($"(async () => JSON.stringify(await window.__parleyProbe.{probeCall}))()");
        return JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidOperationException($"{Name}: {probeCall} answered null.");
    }

    /// <summary>WaitForAsync polls <paramref name="expression"/> until it is true, or throws after <paramref name="timeout"/> saying what it waited for.</summary>
    public async Task WaitForAsync(string expression, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await EvaluateAsync<bool>(expression))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} (Firefox): waited {timeout.TotalSeconds} s for {what}. Console:\n{string.Join('\n', _firefox.Console(_page).TakeLast(30))}");
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>RemoteTileNamesAsync is the names on the other participants' tiles, in the grid's order.</summary>
    public Task<string[]> RemoteTileNamesAsync() =>
        EvaluateAsync<string[]>("[...document.querySelectorAll('#grid .tile:not(.self) .tile-name')].map((n) => n.textContent)");

    public async ValueTask DisposeAsync()
    {
        var output = TestContext.Current.TestOutputHelper;
        foreach (var line in _firefox.Console(_page))
        {
            output?.WriteLine($"[{Name} (Firefox)] {line}");
        }
        await _firefox.CloseAsync(_page);
    }
}
