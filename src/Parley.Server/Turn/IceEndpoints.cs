using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Parley.Rooms;

namespace Parley.Turn;

/// <summary>
/// IceEndpoints is the ICE feature: the options, the credentials source, and
/// <c>GET /api/ice-servers</c>, the ICE configuration a participant would get, for the pre-join
/// connectivity check. It hands out nothing a join would not (anyone may join a room), is
/// same-origin only (no CORS), never cached, and rate-limited per client address.
/// </summary>
public static class IceEndpoints
{
    private const string Policy = "ice-check";

    /// <summary>AddIce registers the ICE options (validated at start), the source of each participant's ICE servers and the check's rate limit.</summary>
    public static IServiceCollection AddIce(this IServiceCollection services)
    {
        services.AddOptions<IceOptions>().BindConfiguration(IceOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IceOptions>, IceOptionsValidator>();
        services.AddSingleton<IValidateOptions<IceOptions>, IceOptionsRules>();
        services.AddSingleton<IceServerSource>();
        services.AddRateLimiter(static limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(Policy, static context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<IceOptions>>().Value.IceCheckRequestsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapIce(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ice-servers", IceServers).RequireRateLimiting(Policy);
        return app;
    }

    /// <summary>IceServers answers the ICE servers and policy, with a TURN credential minted for a throwaway id.</summary>
    private static JsonHttpResult<IceConfigMessage> IceServers(IceServerSource source, IOptions<IceOptions> options, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        var config = new IceConfigMessage(source.ForParticipant(Participant.NewId()), options.Value.IceTransportPolicy);
        return TypedResults.Json(config, IceJsonContext.Default.IceConfigMessage);
    }
}
