using Microsoft.Extensions.Options;

namespace Parley.Cluster;

/// <summary>ClusterFeature registers what several Parley servers share through Redis, when <c>Parley:Redis:Configuration</c> is set.</summary>
public static class ClusterFeature
{
    /// <summary>AddCluster registers the Redis options (validated at start) and this server's connection and lease; idle without Redis.</summary>
    public static IServiceCollection AddCluster(this IServiceCollection services)
    {
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsRules>();
        services.AddSingleton<RedisCluster>();
        services.AddHostedService(static s => s.GetRequiredService<RedisCluster>());
        return services;
    }
}
