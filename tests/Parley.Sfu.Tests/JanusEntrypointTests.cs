using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// JanusEntrypointTests run the container's start script (deploy/janus/entrypoint.sh) with the real
/// Janus, inside the fixture's Janus namespace and as the image's user, as the image does: the
/// shipped files with only the socket's path moved into a temporary folder. They check the secrets reach Janus through a
/// private copy of the configuration and nowhere else, that the UNIX socket the Compose
/// deployment uses serves the API, and that the image's healthcheck tells a live Janus from a dead one.
/// </summary>
[Collection(SharedJanus.Name)]
[SupportedOSPlatform("linux")]
public sealed class JanusEntrypointTests(JanusFixture fixture) : IDisposable
{
    private static readonly string Entrypoint = Path.Combine(JanusConfig.ProductionDirectory, "entrypoint.sh");
    private static readonly string Healthcheck = Path.Combine(JanusConfig.ProductionDirectory, "healthcheck");
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("parley-janus-entrypoint-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Templates => Path.Combine(_directory.FullName, "templates");

    private string Config => Path.Combine(_directory.FullName, "config");

    private string Socket => Path.Combine(_directory.FullName, "socket", "ws.sock");

    [Fact]
    public async Task The_entrypoint_gives_Janus_its_secrets_in_a_private_copy_of_the_config_and_on_no_command_line()
    {
        await WriteTemplatesAsync();
        const string apiSecret = "entrypoint-api-secret-0123456789";
        const string adminKey = "entrypoint_admin_key_9876543210";
        using var janus = Start(new Dictionary<string, string?>
        {
            ["JANUS_API_SECRET"] = apiSecret,
            ["JANUS_ADMIN_KEY"] = adminKey,
            ["JANUS_NAT_1_1"] = "203.0.113.10/10.0.0.5",
        }, out var output);
        try
        {
            await using var api = await ConnectWhenListeningAsync(janus, output);

            // The private copy: 0700 folder, 0600 files, secrets in place of the placeholders.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Config));
            foreach (var file in Directory.GetFiles(Config))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                Assert.DoesNotContain("@JANUS_", await File.ReadAllTextAsync(file, Ct), StringComparison.Ordinal);
            }
            Assert.Contains($"api_secret = \"{apiSecret}\"", await File.ReadAllTextAsync(Path.Combine(Config, JanusConfig.Core), Ct), StringComparison.Ordinal);
            Assert.Contains($"admin_key = \"{adminKey}\"", await File.ReadAllTextAsync(Path.Combine(Config, JanusConfig.VideoRoom), Ct), StringComparison.Ordinal);

            // The script became Janus (same pid): its arguments and environment hold neither secret.
            var commandLine = (await File.ReadAllTextAsync($"/proc/{janus.Id}/cmdline", Ct)).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["janus", "-F", Config, "--nat-1-1=203.0.113.10"], commandLine);
            var environment = await File.ReadAllTextAsync($"/proc/{janus.Id}/environ", Ct);
            Assert.DoesNotContain(apiSecret, environment, StringComparison.Ordinal);
            Assert.DoesNotContain(adminKey, environment, StringComparison.Ordinal);

            // Janus runs with them: the API needs the secret, the VideoRoom the key, and the NAT address is applied.
            var info = await api.InfoAsync(Ct);
            Assert.Equal("203.0.113.10", info.GetProperty("public-ip").GetString());
            Assert.Equal(403, JanusApi.ErrorCode(await api.CreateSessionAsync(apiSecret: null, Ct)));
            var handle = await api.AttachVideoRoomAsync(apiSecret, Ct);
            var created = await api.VideoRoomAsync(handle, apiSecret, new JsonObject { ["request"] = "create", ["room"] = 4400, ["admin_key"] = adminKey }, Ct);
            Assert.Equal("created", created.GetProperty("videoroom").GetString());

            var healthy = await RunAsync(Healthcheck, Socket);
            Assert.True(healthy.Code == 0, healthy.Output);
            Assert.Contains("healthy", healthy.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(janus);
        }

        var dead = await RunAsync(Healthcheck, Socket);
        Assert.Equal(1, dead.Code);
        Assert.StartsWith("unhealthy", dead.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("JANUS_API_SECRET", null, "JANUS_API_SECRET is not set")]
    [InlineData("JANUS_ADMIN_KEY", null, "JANUS_ADMIN_KEY is not set")]
    [InlineData("JANUS_API_SECRET", "short", "JANUS_API_SECRET is too short")]
    [InlineData("JANUS_API_SECRET", "with\"quote-0123456789", "JANUS_API_SECRET may hold only")]
    [InlineData("JANUS_ADMIN_KEY", "with\\backslash-0123456789", "JANUS_ADMIN_KEY may hold only")]
    [InlineData("JANUS_ADMIN_KEY", "with space 0123456789", "JANUS_ADMIN_KEY may hold only")]
    [InlineData("JANUS_API_SECRET", "$(touch /tmp/x)0123456789", "JANUS_API_SECRET may hold only")]
    [InlineData("JANUS_NAT_1_1", "203.0.113.10 --debug-level=7", "JANUS_NAT_1_1 must be an IPv4 address")]
    public async Task The_entrypoint_refuses_to_start_Janus_with_a_missing_or_unsafe_setting(string variable, string? value, string message)
    {
        await WriteTemplatesAsync();
        var environment = new Dictionary<string, string?>
        {
            ["JANUS_API_SECRET"] = "good-api-secret-0123456789",
            ["JANUS_ADMIN_KEY"] = "good-admin-key-0123456789",
            [variable] = value,
        };
        using var janus = Start(environment, out var output);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            deadline.CancelAfter(StartTimeout);
            await janus.WaitForExitAsync(deadline.Token);

            Assert.Equal(1, janus.ExitCode);
            Assert.Contains(message, output.ToString(), StringComparison.Ordinal);
            Assert.False(Directory.Exists(Config), "nothing may be written before the settings are checked");
        }
        finally
        {
            await StopAsync(janus);
        }
    }

    public void Dispose() => _directory.Delete(recursive: true);

    // WriteTemplatesAsync copies the shipped files with only the socket moved (the image's /run/janus is not ours here).
    private async Task WriteTemplatesAsync()
    {
        Directory.CreateDirectory(Templates);
        Directory.CreateDirectory(Path.GetDirectoryName(Socket)!);
        var files = JanusConfig.Production().ToDictionary();
        files[JanusConfig.WebSockets] = JanusConfig.ReplaceSetting(files[JanusConfig.WebSockets], "ws_unix", $"ws_unix = \"{Socket}\"");
        await JanusConfig.WriteDirectoryAsync(Templates, files, Ct);
        await JanusServer.GiveToJanusUserAsync(_directory.FullName, Ct);
    }

    // Start runs the entrypoint under sh in Janus's namespace, with exactly these variables set (null: unset).
    private Process Start(Dictionary<string, string?> variables, out StringBuilder output)
    {
        var environment = new Dictionary<string, string?>(variables)
        {
            ["JANUS_TEMPLATE_DIR"] = Templates,
            ["JANUS_CONFIG_DIR"] = Config,
        };
        var process = fixture.Janus.StartInNamespace(["/bin/sh", Entrypoint], environment);
        var lines = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Append(lines, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = lines;
        return process;
    }

    // ConnectWhenListeningAsync waits until Janus serves its API on the socket, or fails with its output.
    private async Task<JanusWebSocket> ConnectWhenListeningAsync(Process janus, StringBuilder output)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(StartTimeout);
        while (true)
        {
            if (janus.HasExited)
            {
                Assert.Fail($"the entrypoint exited with {janus.ExitCode}:\n{Text(output)}");
            }
            try
            {
                return await JanusWebSocket.ConnectUnixAsync(Socket, deadline.Token);
            }
            catch (Exception e) when (e is WebSocketException or SocketException or HttpRequestException or IOException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"Janus did not listen on {Socket} within {StartTimeout.TotalSeconds:0} s:\n{Text(output)}");
            }
            await Task.Delay(50, deadline.Token);
        }
    }

    private static async Task StopAsync(Process janus)
    {
        if (!janus.HasExited)
        {
            janus.Kill();
        }
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await janus.WaitForExitAsync(deadline.Token);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
