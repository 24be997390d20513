namespace Parley.Signaling;

/// <summary>
/// OriginPolicy decides which pages may open the signaling WebSocket: the server's own origin
/// and the configured allow-list. A request without <c>Origin</c> is not from a browser and is
/// allowed: cross-site WebSocket hijacking needs a browser that carries the victim's page.
/// </summary>
internal static class OriginPolicy
{
    public static bool IsAllowed(HttpRequest request, IList<string> allowedOrigins)
    {
        var header = request.Headers.Origin;
        if (header.Count == 0)
        {
            return true;
        }
        if (header.Count > 1 || header[0] is not { Length: > 0 } origin)
        {
            return false;
        }
        foreach (var allowed in allowedOrigins)
        {
            if (string.Equals(origin, allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return IsSameOrigin(origin, request);
    }

    // IsSameOrigin compares host and port with the request's Host. The scheme is not compared:
    // behind a TLS-terminating proxy the page is https while the request reaching Kestrel is http.
    private static bool IsSameOrigin(string origin, HttpRequest request)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !request.Host.HasValue)
        {
            return false;
        }
        var requestPort = request.Host.Port ?? uri.Port;
        return string.Equals(uri.Host, request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
            && uri.Port == requestPort;
    }
}
