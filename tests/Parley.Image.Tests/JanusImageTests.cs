using System.Buffers.Text;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Parley.Image.Tests;

/// <summary>
/// JanusImageTests run the image built from deploy/janus/Dockerfile the way compose.yaml runs it:
/// the host network (here: the test's namespace), read-only, its config copy on a 1777 tmpfs, and
/// the API's UNIX socket in a folder shared with the test (compose: the janus-socket volume).
/// </summary>
public sealed class JanusImageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_Janus_image_starts_with_the_project_config_and_answers_info_with_only_the_VideoRoom_plugin()
    {
        await TestImages.RequireAsync(Ct, TestImages.Janus);
        var socketDirectory = Directory.CreateTempSubdirectory("parley-image-janus-");
        try
        {
            // Owned by uid 1654 with mode 0750, like the empty volume takes from the image.
            await CheckedAsync("chown", "1654:1654", socketDirectory.FullName);
            await CheckedAsync("chmod", "0750", socketDirectory.FullName);
            await using var janus = await Container.StartAsync(TestImages.Janus,
            [
                "--network", "host", "--read-only", "--tmpfs", "/run/janus-config:mode=1777,size=1m",
                "-v", $"{socketDirectory.FullName}:/run/janus",
                "-e", $"JANUS_API_SECRET={NewSecret()}", "-e", $"JANUS_ADMIN_KEY={NewSecret()}",
            ], Ct);

            var info = await WaitForInfoAsync(janus, Path.Combine(socketDirectory.FullName, "ws.sock"));

            Assert.Equal("server_info", info.GetProperty("janus").GetString());
            // server_name comes from deploy/janus/janus.jcfg: the project's config is the one running.
            Assert.Equal("parley-sfu", info.GetProperty("server-name").GetString());
            Assert.StartsWith("1.1.", info.GetProperty("version_string").GetString(), StringComparison.Ordinal);
            Assert.True(info.GetProperty("api_secret").GetBoolean(), "Janus runs without its api_secret");
            Assert.Equal(["janus.plugin.videoroom"], info.GetProperty("plugins").EnumerateObject().Select(p => p.Name));
            Assert.Equal(["janus.transport.websockets"], info.GetProperty("transports").EnumerateObject().Select(p => p.Name));

            Assert.Equal("1654", (await janus.ExecAsync(Ct, "id", "-u")).Output.Trim());
            var check = await janus.HealthcheckAsync(Ct);
            Assert.True(check.ExitCode == 0, $"podman healthcheck run: {check}");
            Assert.Equal("healthy", await janus.InspectAsync("{{.State.Health.Status}}", Ct));
        }
        finally
        {
            socketDirectory.Delete(recursive: true);
        }
    }

    // WaitForInfoAsync asks `info` over the socket until Janus answers (it creates the socket once its transport is up).
    private static async Task<JsonElement> WaitForInfoAsync(Container janus, string socket)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (File.Exists(socket))
            {
                try
                {
                    await using var api = await JanusWebSocket.ConnectUnixAsync(socket, Ct);
                    return await api.InfoAsync(Ct);
                }
                catch (Exception e) when (e is WebSocketException or HttpRequestException or SocketException or IOException)
                {
                    // Not answering yet.
                }
            }
            if (!await janus.IsRunningAsync(Ct) || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Janus did not answer info on {socket}:\n{await janus.LogsAsync(Ct)}");
            }
            await Task.Delay(200, Ct);
        }
    }

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private static async Task CheckedAsync(string file, params string[] arguments)
    {
        var result = await Command.RunAsync(file, arguments, Ct);
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', arguments)}: {result}");
    }
}
