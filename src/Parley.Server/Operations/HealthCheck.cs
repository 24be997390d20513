namespace Parley.Operations;

/// <summary>
/// HealthCheck is <c>Parley.Server --healthcheck [url]</c>: it asks a running server's
/// <c>/healthz</c> and exits 0 if it answers 200, else 1. The container image has no curl, so
/// its HEALTHCHECK runs this.
/// </summary>
public static class HealthCheck
{
    public const string Flag = "--healthcheck";
    public const string DefaultUrl = "http://127.0.0.1:8080/healthz";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Flag;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var url = args.Length > 1 ? args[1] : DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            await output.WriteLineAsync($"unhealthy: '{url}' is not an http(s) URL");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(uri);
            await output.WriteLineAsync($"{(response.IsSuccessStatusCode ? "healthy" : "unhealthy")}: {uri} answered {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"unhealthy: {uri}: {e.Message}");
            return 1;
        }
    }
}
