using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Parley.Sfu.Janus;

namespace Parley.Server.Tests.Janus;

/// <summary>JanusGatewayTests run the gateway on a fake clock against the fake Janus: up, down, backoff.</summary>
public sealed class JanusGatewayTests : JanusTestKit
{
    private readonly FakeTimeProvider _time = new();
    private readonly Channel<TimeSpan> _backoffs = Channel.CreateUnbounded<TimeSpan>();
    private readonly Channel<JanusSession> _ups = Channel.CreateUnbounded<JanusSession>();
    private readonly Channel<string> _downs = Channel.CreateUnbounded<string>();

    private JanusGateway? _gateway;

    // Gateway makes the test's gateway; the fixture stops it after the test.
    private JanusGateway Gateway()
    {
        var factory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        _gateway = new JanusGateway(Options(), _time, factory.CreateLogger<JanusGateway>(), Observer)
        {
            BackoffScheduled = d => _backoffs.Writer.TryWrite(d),
        };
        _gateway.Up += s => _ups.Writer.TryWrite(s);
        _gateway.Down += r => _downs.Writer.TryWrite(r);
        return _gateway;
    }

    private async Task<JanusGateway> StartAsync()
    {
        var gateway = Gateway();
        await gateway.StartAsync(Ct);
        return gateway;
    }

    protected override async ValueTask DisposeTestAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync(Ct);
            _gateway.Dispose();
        }
    }

    private static async Task<T> NextAsync<T>(Channel<T> channel) =>
        await channel.Reader.ReadAsync(Ct).AsTask().WaitAsync(Deadline, Ct);

    // AssertBackoff checks a wait against its base: at least the base, at most a tenth more.
    private static void AssertBackoff(double seconds, TimeSpan actual) =>
        Assert.InRange(actual, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(seconds * 1.1));

    [Fact]
    public async Task The_gateway_comes_up_and_fires_Up_with_the_session()
    {
        var gateway = Gateway();
        var currentAtUp = new TaskCompletionSource<JanusSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Up += _ => currentAtUp.TrySetResult(gateway.Current);
        Assert.False(gateway.IsUp);
        await gateway.StartAsync(Ct);
        var session = await Within(gateway.WaitUpAsync(Ct));
        Assert.Same(session, await Within(currentAtUp.Task));

        Assert.Same(session, await NextAsync(_ups));
        Assert.Same(session, gateway.Current);
        Assert.True(gateway.IsUp);
        Assert.Same(session, await gateway.WaitUpAsync(Ct));

        await gateway.StopAsync(Ct);
        Assert.Equal("Parley is stopping", await NextAsync(_downs));
        Assert.False(gateway.IsUp);
        var connection = await Fake.NextConnectionAsync(Ct);
        Assert.Contains(connection.Requests, r => (string?)r["janus"] == "destroy");
    }

    [Fact]
    public async Task After_the_socket_drops_it_fires_Down_waits_a_backoff_and_comes_up_with_a_new_session()
    {
        var gateway = await StartAsync();
        var first = await NextAsync(_ups);
        var connection = await Fake.NextConnectionAsync(Ct);
        var currentAtDown = new TaskCompletionSource<JanusSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Down += _ => currentAtDown.TrySetResult(gateway.Current);

        connection.Drop();
        Assert.StartsWith("connection lost", await NextAsync(_downs), StringComparison.Ordinal);
        Assert.Null(await Within(currentAtDown.Task));
        var wait = await NextAsync(_backoffs);
        AssertBackoff(1, wait);
        Assert.False(gateway.IsUp);
        Assert.Equal(1, Fake.Attempts);

        _time.Advance(wait);
        var second = await NextAsync(_ups);
        Assert.NotSame(first, second);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Same(second, gateway.Current);
        Assert.Equal(2, Fake.Attempts);
    }

    [Fact]
    public async Task While_Janus_refuses_it_retries_with_doubling_waits_capped_at_16_seconds()
    {
        Fake.Refuse = true;
        var gateway = await StartAsync();
        double[] bases = [1, 2, 4, 8, 16, 16, 16];
        for (var i = 0; i < bases.Length; i++)
        {
            var wait = await NextAsync(_backoffs);
            AssertBackoff(bases[i], wait);
            // The gateway waits on the clock: no attempt beyond the one that just failed.
            Assert.Equal(i + 1, Fake.Attempts);
            Fake.Refuse = i < bases.Length - 1;
            _time.Advance(wait);
        }

        await NextAsync(_ups);
        Assert.Equal(8, Fake.Attempts);
        Assert.True(gateway.IsUp);
    }

    [Fact]
    public async Task A_session_that_lived_a_while_resets_the_backoff()
    {
        var gateway = await StartAsync();
        await NextAsync(_ups);
        (await Fake.NextConnectionAsync(Ct)).Drop();
        var wait = await NextAsync(_backoffs);
        AssertBackoff(1, wait);
        _time.Advance(wait);

        await NextAsync(_ups);
        (await Fake.NextConnectionAsync(Ct)).Drop();
        wait = await NextAsync(_backoffs);
        AssertBackoff(2, wait);
        _time.Advance(wait);

        await NextAsync(_ups);
        var lived = await Fake.NextConnectionAsync(Ct);
        _time.Advance(JanusGateway.StableAfter);
        await lived.TakeAsync("keepalive", Ct);
        lived.Drop();

        AssertBackoff(1, await NextAsync(_backoffs));
    }

    [Fact]
    public async Task WaitUpAsync_waits_while_down_and_throws_when_cancelled()
    {
        Fake.Refuse = true;
        var gateway = await StartAsync();
        await NextAsync(_backoffs);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = gateway.WaitUpAsync(cancel.Token);
        Assert.False(waiting.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(waiting));
    }

    [Fact]
    public async Task WaitUpAsync_completes_when_the_gateway_comes_up()
    {
        Fake.Refuse = true;
        var gateway = await StartAsync();
        var wait = await NextAsync(_backoffs);
        var waiting = gateway.WaitUpAsync(Ct);
        Fake.Refuse = false;

        _time.Advance(wait);

        Assert.Same(await NextAsync(_ups), await Within(waiting));
    }

    [Fact]
    public async Task An_Up_handler_that_throws_is_logged_and_the_others_still_run()
    {
        var gateway = Gateway();
        var later = new TaskCompletionSource<JanusSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Up += _ => throw new InvalidOperationException("handler broke");
        gateway.Up += s => later.TrySetResult(s);
        await gateway.StartAsync(Ct);
        var session = await Within(later.Task);

        Assert.Same(session, gateway.Current);
        Assert.Contains(Logs.Lines, l => l.Contains("[314]", StringComparison.Ordinal) && l.Contains("handler broke", StringComparison.Ordinal));
    }

    [Fact]
    public void DI_builds_the_gateway_without_an_observer()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(Options())
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton<JanusGateway>()
            .BuildServiceProvider();

        using var gateway = services.GetRequiredService<JanusGateway>();

        Assert.False(gateway.IsUp);
    }
}
