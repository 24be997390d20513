using System.Diagnostics;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// JanusFixture is one Janus with the production configuration, shared by the test classes of the
/// "Janus" collection: starting it once keeps the run short, and no test there changes its state
/// beyond rooms it destroys again.
/// </summary>
public sealed class JanusFixture : IAsyncLifetime
{
    private JanusServer? _janus;

    public JanusServer Janus => _janus ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>StartTime is how long <see cref="JanusServer.StartAsync"/> took: namespace, veth, config and Janus up to its first answer.</summary>
    public TimeSpan StartTime { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        _janus = await JanusServer.StartAsync("production", TestContext.Current.CancellationToken);
        StartTime = clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (_janus is not null)
        {
            await _janus.DisposeAsync();
        }
    }
}

/// <summary>SharedJanus is the test collection whose classes share one <see cref="JanusFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedJanus : ICollectionFixture<JanusFixture>
{
    public const string Name = "Janus";
}
