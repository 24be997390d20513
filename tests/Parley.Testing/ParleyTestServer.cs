using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Testing;

/// <summary>
/// ParleyTestServer runs the real server on a real Kestrel port on 127.0.0.1, configured like
/// production plus the test's overrides, serving the wwwroot of the source tree.
/// </summary>
public sealed class ParleyTestServer : IAsyncDisposable
{
    private ParleyTestServer(WebApplication app, Uri baseUri, TestLogSink logs)
    {
        App = app;
        BaseUri = baseUri;
        Logs = logs;
    }

    /// <summary>App is the running application, for its services.</summary>
    public WebApplication App { get; }

    /// <summary>BaseUri is <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>WebSocketUri is the signaling endpoint, <c>ws://127.0.0.1:port/ws</c>.</summary>
    public Uri WebSocketUri => new($"ws://{BaseUri.Authority}/ws");

    /// <summary>Logs holds every line the server logged, for assertions.</summary>
    public TestLogSink Logs { get; }

    /// <summary>SourceRoot is the repository's root, found from the test's output folder.</summary>
    public static string SourceRoot { get; } = FindSourceRoot();

    public static Task<ParleyTestServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        CancellationToken cancellationToken = default) =>
        StartAsync(settings, configure: null, cancellationToken);

    public static async Task<ParleyTestServer> StartAsync(
        IDictionary<string, string?>? settings,
        Action<WebApplicationBuilder>? configure,
        CancellationToken cancellationToken)
    {
        var app = Build(settings, configure, out var logs);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ParleyTestServer(app, new Uri(address.TrimEnd('/') + "/"), logs);
    }

    /// <summary>Build builds the application exactly as StartAsync does, without starting it (to test start-up failures).</summary>
    public static WebApplication Build(IDictionary<string, string?>? settings, Action<WebApplicationBuilder>? configure, out TestLogSink logs)
    {
        var contentRoot = Path.Combine(SourceRoot, "src", "Parley.Server");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ParleyApp).Assembly.GetName().Name,
            ContentRootPath = contentRoot,
            WebRootPath = Path.Combine(contentRoot, "wwwroot"),
            EnvironmentName = "Testing",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug" });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        logs = new TestLogSink();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.AddParley();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapParley();
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }

    private static string FindSourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Parley.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Parley.slnx above {AppContext.BaseDirectory}.");
    }
}

/// <summary>TestLogSink keeps every formatted log line in memory.</summary>
public sealed class TestLogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>Lines are "Level Category: message" strings, in order.</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._lines.Enqueue($"{logLevel} {category}[{eventId.Id}]: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
    }
}
