using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Parley.Rooms;

namespace Parley.Sfu;

/// <summary>SfuFeature registers the SFU: large rooms' media through Janus, when <c>Parley:Sfu:JanusUrl</c> is set.</summary>
public static class SfuFeature
{
    /// <summary>
    /// AddSfu registers the SFU options (validated at start), the Janus connection (which also
    /// tells the room policy whether the SFU is up), the coordinator and the metrics. Without a
    /// Janus URL they stay idle and rooms are meshes only. The signaling feature provides
    /// <see cref="ISfuSignals"/>.
    /// </summary>
    public static IServiceCollection AddSfu(this IServiceCollection services)
    {
        services.AddOptions<SfuOptions>().BindConfiguration(SfuOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SfuOptions>, SfuOptionsValidator>();
        services.AddSingleton<IValidateOptions<SfuOptions>, SfuOptionsRules>();
        services.AddSingleton<SfuMetrics>();
        services.AddSingleton<JanusConnection>();
        services.AddSingleton<SfuAvailability>();
        services.Replace(ServiceDescriptor.Singleton<IMediaServerStatus>(static s => s.GetRequiredService<SfuAvailability>()));
        services.AddSingleton<SfuRuntime>();
        services.AddSingleton<SfuCoordinator>();
        // The coordinator listens before the connection first comes up.
        services.AddHostedService(static s => s.GetRequiredService<SfuCoordinator>());
        services.AddHostedService(static s => s.GetRequiredService<JanusConnection>());
        return services;
    }
}
