using Microsoft.AspNetCore.StaticFiles;
using Parley.Cluster;
using Parley.Operations;
using Parley.Sfu;
using Parley.Signaling;
using Parley.Turn;

namespace Parley;

/// <summary>ParleyApp wires the features together; Program.cs is one call to each half.</summary>
public static class ParleyApp
{
    /// <summary>DefaultUrl is where <c>dotnet run</c> listens when no --urls, ASPNETCORE_URLS or ports are set.</summary>
    public const string DefaultUrl = "http://localhost:8000";

    /// <summary>AddParley registers each feature: signaling and rooms, ICE, the SFU, the cluster (Redis), operations.</summary>
    public static WebApplicationBuilder AddParley(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        if (string.IsNullOrEmpty(config[WebHostDefaults.ServerUrlsKey])
            && string.IsNullOrEmpty(config["HTTP_PORTS"]) && string.IsNullOrEmpty(config["HTTPS_PORTS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        // ListenBacklog is read before the options are validated: Kestrel's transport is configured first.
        builder.WebHost.UseSockets(o => o.Backlog = config.GetValue($"{SignalingOptions.SectionName}:{nameof(SignalingOptions.ListenBacklog)}", 4096));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSignaling();
        builder.Services.AddIce();
        builder.Services.AddSfu();
        builder.Services.AddCluster();
        builder.Services.AddOperations();
        builder.Services.AddHsts(static hsts => hsts.MaxAge = TimeSpan.FromDays(365));
        return builder;
    }

    /// <summary>MapParley maps the pages, the health check and the signaling WebSocket.</summary>
    public static WebApplication MapParley(this WebApplication app)
    {
        app.UseSecurityHeaders();
        // HSTS only on https requests (behind a TLS proxy, with forwarded headers enabled), never for localhost.
        app.UseHsts();
        app.UseWebSockets();
        app.UseRateLimiter();
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            // ES modules load without a build step, so revalidate them (cheaply, by ETag) on every load.
            OnPrepareResponse = static ctx => ctx.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapOperations();
        app.MapPages();
        app.MapSignaling();
        app.MapIce();
        return app;
    }
}
