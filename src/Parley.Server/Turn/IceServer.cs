using System.Text.Json.Serialization;

namespace Parley.Turn;

/// <summary>IceServer is an RTCIceServer, as clients get it.</summary>
public sealed record IceServer(IReadOnlyList<string> Urls, string? Username = null, string? Credential = null);

/// <summary>IceConfigMessage is the body of <c>GET /api/ice-servers</c>, for the pre-join connectivity check.</summary>
public sealed record IceConfigMessage(IReadOnlyList<IceServer> IceServers, string IceTransportPolicy);

/// <summary>IceJsonContext serializes what the ICE endpoint answers (source-generated).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IceConfigMessage))]
public sealed partial class IceJsonContext : JsonSerializerContext;
