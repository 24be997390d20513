using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Cluster;
using OpenTelemetry.Metrics;

namespace Parley.Operations;

/// <summary>OperationsEndpoints are what an operator needs: liveness, readiness and metrics.</summary>
public static class OperationsEndpoints
{
    /// <summary>MeterName is the meter every Parley feature records its instruments on.</summary>
    public const string MeterName = "Parley";

    /// <summary>AddOperations exports the Parley, Kestrel and runtime meters in the Prometheus format.</summary>
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MeterName, "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting")
            .AddRuntimeInstrumentation()
            // No scrape cache: a scrape shows the counters as they are now.
            .AddPrometheusExporter(static o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Healthz);
        app.MapGet("/readyz", Readyz);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>Healthz answers 200 while the process serves requests.</summary>
    private static Ok<string> Healthz() => TypedResults.Ok("ok");

    /// <summary>
    /// Readyz answers 200 once the server has started and until it begins to stop, and, with Redis
    /// configured, while this server holds its lease there; else 503, so a balancer sends joins elsewhere.
    /// </summary>
    private static Results<Ok<string>, ProblemHttpResult> Readyz(IHostApplicationLifetime lifetime, RedisCluster cluster)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return TypedResults.Problem("The server is starting or stopping.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        return cluster.IsReady
            ? TypedResults.Ok("ready")
            : TypedResults.Problem("Redis cannot be reached, so this server cannot share rooms with the others.", statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
