namespace Parley.Operations;

/// <summary>
/// SecurityHeaders puts the same headers on every response. The Content-Security-Policy allows
/// only what the client needs: its own scripts, styles and WebSocket, camera streams in media
/// elements, and nothing inline, framed or from elsewhere.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        + "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

    public const string PermissionsPolicy =
        "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), autoplay=(self), "
        + "geolocation=(), payment=(), usb=(), serial=(), hid=(), midi=()";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
            headers.XContentTypeOptions = "nosniff";
            headers["Permissions-Policy"] = PermissionsPolicy;
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers.XFrameOptions = "DENY";
            return next(context);
        });
}
