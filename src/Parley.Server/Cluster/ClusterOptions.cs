using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Parley.Cluster;

/// <summary>
/// ClusterOptions connect Parley to Redis, which several Parley servers share (docs/deployment.md,
/// "Several servers"). Bound from <c>Parley:Redis</c>, validated at start. Without
/// <see cref="Configuration"/> (the default) this server runs alone, with its rooms in memory.
/// </summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Parley:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string: <c>127.0.0.1:6379</c>, or with options,
    /// <c>redis.internal:6379,password=…,ssl=true</c>. Empty (the default): no Redis.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>The prefix of every key and channel Parley uses, so deployments can share one Redis. Default <c>parley:</c>.</summary>
    [RegularExpression("^[A-Za-z0-9:_.-]{1,32}$", ErrorMessage = "Parley:Redis:KeyPrefix must be 1 to 32 letters, digits or : _ . -")]
    public string KeyPrefix { get; set; } = "parley:";

    /// <summary>
    /// How long this server's liveness lease in Redis lasts; it is renewed every third of it. The
    /// other servers take a server whose lease lapsed for dead. Default 15 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:03", "00:05:00")]
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>IsEnabled is true when a Redis configuration is set.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Configuration);
}

/// <summary>ClusterOptionsValidator checks the attributes above (source-generated).</summary>
[OptionsValidator]
public sealed partial class ClusterOptionsValidator : IValidateOptions<ClusterOptions>;

/// <summary>ClusterOptionsRules checks what attributes cannot: that the configuration string is one StackExchange.Redis reads.</summary>
internal sealed class ClusterOptionsRules : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }
        try
        {
            var parsed = ConfigurationOptions.Parse(options.Configuration!);
            return parsed.EndPoints.Count == 0
                ? ValidateOptionsResult.Fail("Parley:Redis:Configuration names no Redis server: give host:port first (e.g. '127.0.0.1:6379').")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            // The string itself is not repeated: it may hold a password.
            return ValidateOptionsResult.Fail($"Parley:Redis:Configuration is not a Redis configuration string (e.g. '127.0.0.1:6379,password=…'): {e.Message}");
        }
    }
}
