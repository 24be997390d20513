using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Parley.Rooms;
using Parley.Sfu;

namespace Parley.Signaling;

/// <summary>SignalingEndpoints is the signaling feature: its options, the rooms, and <c>/ws</c>, the WebSocket of protocol v1.</summary>
public static class SignalingEndpoints
{
    /// <summary>AddSignaling registers the signaling options (validated at start), the room router and policy, and the connection bookkeeping.</summary>
    public static IServiceCollection AddSignaling(this IServiceCollection services)
    {
        services.AddOptions<SignalingOptions>().BindConfiguration(SignalingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SignalingOptions>, SignalingOptionsValidator>();
        services.AddSingleton<IValidateOptions<SignalingOptions>, SignalingOptionsRules>();
        // Without an SFU feature, rooms are meshes only.
        services.TryAddSingleton<IMediaServerStatus, NoMediaServer>();
        services.AddSingleton<RoomPolicy>();
        services.AddSingleton<IRoomRouter, LocalRoomRouter>();
        services.AddSingleton<ConnectionTracker>();
        services.AddSingleton<ResumeTokens>();
        services.AddSingleton<SignalingMetrics>();
        services.AddSingleton<SignalingServices>();
        services.TryAddSingleton<ISfuSignals, SfuSignals>();
        return services;
    }

    /// <summary>MapSignaling maps the WebSocket endpoint and closes every socket with 1001 when the server stops.</summary>
    public static IEndpointRouteBuilder MapSignaling(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var tracker = services.GetRequiredService<ConnectionTracker>();
        lifetime.ApplicationStopping.Register(tracker.CloseAll);
        // The instruments exist from the start (after options validation), so a scrape before the first connection shows zeros.
        lifetime.ApplicationStarted.Register(() => services.GetRequiredService<SignalingMetrics>());
        app.Map("/ws", HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context, SignalingServices services, ConnectionTracker tracker)
    {
        var settings = services.Options;
        var logger = services.Logger;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This endpoint takes a WebSocket upgrade; see docs/protocol.md.", context.RequestAborted);
            return;
        }
        if (!OriginPolicy.IsAllowed(context.Request, settings.AllowedOrigins))
        {
            SignalingLog.ForbiddenOrigin(logger, context.Request.Headers.Origin.ToString());
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("This origin may not open a signaling connection; see Parley:AllowedOrigins.", context.RequestAborted);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = settings.KeepAliveTimeout,
        });
        using var connection = new WebSocketConnection(context.TraceIdentifier, socket, settings, services.Time, logger, services.Metrics);
        var session = new SignalingSession(services, connection);
        tracker.Add(connection);
        try
        {
            await connection.RunAsync(session, context.RequestAborted);
        }
        catch (Exception e)
        {
            SignalingLog.Failed(logger, e, connection.Id);
            await session.OnClosedAsync("server error");
        }
        finally
        {
            tracker.Remove(connection);
        }
    }
}
