using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Parley.Rooms;
using Parley.Signaling;

namespace Parley.Turn;

/// <summary>
/// IceEndpoints maps <c>GET /api/ice-servers</c>: the ICE configuration a participant would get,
/// for the pre-join connectivity check. It hands out nothing a join would not (anyone may join
/// a room), is same-origin only (no CORS), never cached, and rate-limited per client address.
/// </summary>
public static class IceEndpoints
{
    private const string Policy = "ice-check";

    public static IServiceCollection AddIceCheck(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(static o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ParleyJsonContext.Default));
        services.AddRateLimiter(static limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(Policy, static context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<ParleyOptions>>().Value.IceCheckRequestsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapIceCheck(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/ice-servers", IceServers).RequireRateLimiting(Policy);
        return app;
    }

    /// <summary>IceServers answers the ICE servers and policy, with a TURN credential minted for a throwaway id.</summary>
    private static Ok<IceConfigMessage> IceServers(IceServerSource source, IOptions<ParleyOptions> options, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new IceConfigMessage(source.ForParticipant(Participant.NewId()), options.Value.IceTransportPolicy));
    }
}
