using System.Text.Json;

namespace Parley.Browser.Tests;

/// <summary>
/// ReconnectBackoffTests: the signaling client's reconnect schedule (signaling.js), in a real page
/// with a fake clock and a scripted fake WebSocket, for what a real server cannot show in a
/// reasonable time: the first try at once, then full-jitter exponential backoff capped at 10 s,
/// the schedule starting over after a resume, and a server that said it is going away (1001) not
/// tried at once.
/// </summary>
public sealed class ReconnectBackoffTests(Chromium chromium)
{
    // The page script: a fake clock (setTimeout runs when the test advances time), a WebSocket that
    // accepts only while `up`, a client joined once; then the connection is lost with `code` and
    // the clock runs for a minute with the server down, then it comes back. Math.random returns
    // `random`. It returns (as JSON) the clock times of the WebSockets made after the loss and the
    // `reconnecting` events, both from the loss; the first retry after a second loss; and
    // reconnectDelay's schedule.
    private const string Script = """
        async ({ random, code }) => {
          const { SignalingClient, reconnectDelay } = await import('/js/signaling.js');
          const real = { setTimeout, clearTimeout, setInterval, clearInterval, WebSocket, random: Math.random };
          let now = 0;
          let nextTimer = 1;
          const timers = new Map();
          const advance = (ms) => {
            const until = now + ms;
            for (;;) {
              const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
              if (!due) break;
              timers.delete(due[0]);
              now = Math.max(now, due[1].at);
              due[1].fn();
            }
            now = until;
          };
          let up = true;
          const sockets = [];
          const instances = [];
          class FakeSocket {
            static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
            constructor(url) {
              this.url = url; this.readyState = 0; this.listeners = {}; this.sent = [];
              sockets.push(now);
              instances.push(this);
              const accept = up;
              globalThis.setTimeout(() => (accept ? this.#open() : this.#end(1006)), 0);
            }
            addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
            #emit(type, ev) { for (const fn of this.listeners[type] ?? []) fn(ev); }
            #open() { this.readyState = 1; this.#emit('open', {}); }
            #end(closeCode) {
              if (this.readyState === 3) return;
              this.readyState = 3;
              this.#emit('close', { code: closeCode, reason: '' });
            }
            send(data) {
              const msg = JSON.parse(data);
              this.sent.push(msg);
              const reply = (m) => globalThis.setTimeout(() => this.#emit('message', { data: JSON.stringify(m) }), 0);
              if (msg.type === 'join' && !msg.resume) reply({ type: 'joined', id: msg.id, self: { id: 'p_self', name: 'Ada' }, peers: [], resume: 'r_one' });
              if (msg.type === 'join' && msg.resume) reply({ type: 'resumed', id: msg.id, resume: 'r_two' });
            }
            close(closeCode = 1000) { this.#end(closeCode); }
            lose(closeCode) { this.#end(closeCode); }
          }
          try {
            globalThis.setTimeout = (fn, ms = 0) => { const id = nextTimer++; timers.set(id, { at: now + ms, fn }); return id; };
            globalThis.clearTimeout = (id) => timers.delete(id);
            globalThis.setInterval = () => nextTimer++;
            globalThis.clearInterval = () => {};
            globalThis.WebSocket = FakeSocket;
            Math.random = () => random;

            const client = new SignalingClient('ws://fake/ws');
            const events = [];
            client.on('reconnecting', (e) => events.push({ at: now, attempt: e.attempt, delay: e.delay }));
            let resumed = 0;
            client.on('resumed', () => resumed++);
            const connected = client.connect();
            advance(0);
            await connected;
            const joined = client.join('room', 'Ada');
            advance(0);
            await joined;
            // The connection is lost; nothing is accepted for a minute, then the server is back.
            up = false;
            const lostAt = now;
            const before = sockets.length;
            instances.at(-1).lose(code);
            advance(60_000);
            up = true;
            advance(15_000);
            await Promise.resolve();
            const afterOutage = { sockets: sockets.slice(before).map((t) => t - lostAt), events: events.map((e) => ({ ...e, at: e.at - lostAt })), resumed };
            // Once resumed the schedule starts over: a second loss is tried again at once.
            events.length = 0;
            const again = sockets.length;
            const lostAgainAt = now;
            instances.at(-1).lose(1006);
            advance(0);
            const secondLoss = { firstRetry: sockets.slice(again).map((t) => t - lostAgainAt)[0] ?? -1, resumed };
            const schedule = [0, 1, 2, 3, 4, 5, 6, 10].map((n) => reconnectDelay(n));
            client.close();
            return JSON.stringify({ afterOutage, secondLoss, schedule });
          } finally {
            Object.assign(globalThis, { setTimeout: real.setTimeout, clearTimeout: real.clearTimeout, setInterval: real.setInterval, clearInterval: real.clearInterval, WebSocket: real.WebSocket });
            Math.random = real.random;
          }
        }
        """;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private readonly IBrowser _browser = chromium.Browser;

    public sealed record Reconnecting(double At, int Attempt, double Delay);

    public sealed record Outage(double[] Sockets, Reconnecting[] Events, int Resumed);

    public sealed record SecondLoss(double FirstRetry, int Resumed);

    public sealed record Run(Outage AfterOutage, SecondLoss SecondLoss, double[] Schedule);

    // Expected is the delay before attempt n with Math.random() = r: none for the first, then a
    // random part of 500 ms·2^n, at most 10 s.
    private static double Expected(int n, double r) => n == 0 ? 0 : Math.Floor(r * Math.Min(10_000, 500 * Math.Pow(2, n)));

    private async Task<Run> RunAsync(double random, int code)
    {
        await using var server = await ParleyTestServer.StartAsync(null, TestContext.Current.CancellationToken);
        await using var page = await Participant.OpenAsync(_browser, server.BaseUri, "/", "Ada");
        var json = await page.Page.EvaluateAsync<string>(Script, new { random, code });
        return JsonSerializer.Deserialize<Run>(json, Web)!;
    }

    [Theory]
    [InlineData(0.999)]
    [InlineData(0.5)]
    public async Task A_lost_connection_is_tried_again_at_once_then_with_full_jitter_backoff_capped_at_10_s_and_starts_over_after_a_resume(double random)
    {
        var run = await RunAsync(random, 1006);

        var events = run.AfterOutage.Events;
        Assert.True(events.Length >= 8, $"only {events.Length} attempts in a minute");
        for (var i = 0; i < events.Length; i++)
        {
            Assert.Equal(i, events[i].Attempt);
            Assert.Equal(Expected(i, random), events[i].Delay);
        }
        // Each new socket is made when its delay has passed, by the fake clock.
        var after = run.AfterOutage.Sockets;
        for (var i = 0; i < after.Length && i < events.Length; i++)
        {
            Assert.Equal(events[i].At + events[i].Delay, after[i]);
        }
        // Back within one capped wait of the server's return, and resumed once.
        var back = after.First(t => t >= 60_000);
        Assert.InRange(back, 60_000, 70_000);
        Assert.Equal(1, run.AfterOutage.Resumed);
        Assert.Equal(0, run.SecondLoss.FirstRetry);
        Assert.Equal([0, Expected(1, random), Expected(2, random), Expected(3, random), Expected(4, random), Expected(5, random), Expected(6, random), Expected(10, random)], run.Schedule);
        Assert.Equal(Math.Floor(random * 10_000), run.Schedule[^1]);
    }

    [Fact]
    public async Task A_server_that_says_it_is_going_away_is_not_tried_again_at_once()
    {
        var run = await RunAsync(0.999, 1001);

        var first = run.AfterOutage.Events[0];
        Assert.Equal(1, first.Attempt);
        Assert.Equal(Expected(1, 0.999), first.Delay);
        Assert.Equal(1, run.AfterOutage.Resumed);
    }
}
