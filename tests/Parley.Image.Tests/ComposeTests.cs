using System.Buffers.Text;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Parley.Image.Tests;

/// <summary>
/// ComposeTests bring compose.yaml's parley and janus services up with Debian's docker-compose
/// 1.29 talking to podman's Docker-compatible API (<c>podman system service</c>, started here on
/// a socket of the test's own), from the images scripts/image-test.sh built under compose's
/// names. coturn and caddy are registry images that cannot be had offline: not exercised.
/// </summary>
public sealed partial class ComposeTests
{
    /// <summary>NotExercised names the compose services these tests cannot start, and why.</summary>
    public const string NotExercised =
        "not exercised: the coturn service (coturn/coturn:4.13.1) and the caddy service (caddy:2.10), registry images that cannot be had offline";

    private static readonly TimeSpan HealthyTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Compose_brings_up_parley_and_janus_healthy_with_parley_on_janus_socket_and_takes_them_down()
    {
        await TestImages.RequireAsync(Ct, "localhost/parley:latest", "localhost/parley-janus:latest");
        if (!TestImages.OnPath("docker-compose"))
        {
            Assert.Fail("No docker-compose (apt-get install docker-compose; scripts/image-test.sh installs it).");
        }
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine(NotExercised);
        var directory = Directory.CreateTempSubdirectory("parley-image-compose-");
        var socket = Path.Combine(directory.FullName, "podman.sock");
        var env = Path.Combine(directory.FullName, ".env");
        await File.WriteAllTextAsync(env, string.Join('\n',
            "PARLEY_DOMAIN=meet.example.test",
            // A documentation address (TEST-NET-1): Janus only writes it into candidates, nothing is sent to it.
            "PARLEY_EXTERNAL_IP=192.0.2.10",
            $"TURN_SECRET={NewSecret()}",
            $"JANUS_API_SECRET={NewSecret()}",
            $"JANUS_ADMIN_KEY={NewSecret()}") + "\n", Ct);
        using var service = StartService(socket);
        var down = false;
        try
        {
            await WaitForSocketAsync(service, socket);

            var up = await ComposeAsync(socket, env, "up", "-d", "--no-build", "parley");
            Assert.True(up.ExitCode == 0, $"docker-compose up: {up}");
            var parley = await ContainerOfAsync(socket, env, "parley");
            var janus = await ContainerOfAsync(socket, env, "janus");

            await WaitUntilHealthyAsync(janus);
            await WaitUntilHealthyAsync(parley);
            var ps = await ComposeAsync(socket, env, "ps");
            output?.WriteLine(ps.Output);
            Assert.Equal(2, HealthyRow().Count(ps.Output));

            // Parley reaches Janus over the socket in the shared volume (uid 1654 on both sides, read-only for parley).
            var address = await Podman.CheckedAsync(Ct, "container", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", parley);
            await WaitForJanusUpAsync(new Uri($"http://{address}:8080/metrics"), parley);

            var result = await ComposeAsync(socket, env, "down", "-v");
            down = true;
            Assert.True(result.ExitCode == 0, $"docker-compose down: {result}");
            Assert.Empty(await Podman.CheckedAsync(Ct, "ps", "-aq", "--filter", $"label=com.docker.compose.project={TestImages.ComposeProject}"));
            Assert.Empty(await Podman.CheckedAsync(Ct, "volume", "ls", "-q", "--filter", $"label=com.docker.compose.project={TestImages.ComposeProject}"));
        }
        finally
        {
            if (!down)
            {
                var logs = await ComposeAsync(socket, env, "logs", "--no-color");
                output?.WriteLine($"--- docker-compose logs ---\n{logs.Output}{logs.Error}");
                await ComposeAsync(socket, env, "down", "-v");
            }
            await StopAsync(service);
            directory.Delete(recursive: true);
        }
    }

    // A `docker-compose ps` row of a container that is up and whose healthcheck passed.
    [GeneratedRegex(@"(?m)^\S+\s.*Up \(healthy\)")]
    private static partial Regex HealthyRow();

    private static Task<CommandResult> ComposeAsync(string socket, string env, params string[] arguments) =>
        Command.RunAsync("docker-compose",
            ["-p", TestImages.ComposeProject, "-f", Path.Combine(TestImages.SourceRoot, "compose.yaml"),
             "--project-directory", TestImages.SourceRoot, "--env-file", env, "--no-ansi", .. arguments],
            CancellationToken.None,
            new Dictionary<string, string?> { ["DOCKER_HOST"] = $"unix://{socket}", ["COMPOSE_INTERACTIVE_NO_CLI"] = "1" },
            timeout: TimeSpan.FromMinutes(2));

    private static async Task<string> ContainerOfAsync(string socket, string env, string service)
    {
        var ps = await ComposeAsync(socket, env, "ps", "-q", service);
        var id = ps.Output.Trim();
        Assert.True(ps.ExitCode == 0 && id.Length > 0, $"no container for {service}: {ps}");
        return id;
    }

    // No systemd here, so podman runs no periodic healthchecks: run the service's HEALTHCHECK until it passes.
    private static async Task WaitUntilHealthyAsync(string container)
    {
        var deadline = DateTime.UtcNow + HealthyTimeout;
        while (true)
        {
            var check = await Podman.RunAsync(Ct, "healthcheck", "run", container);
            if (check.ExitCode == 0)
            {
                return;
            }
            var running = await Podman.RunAsync(Ct, "container", "inspect", "--format", "{{.State.Running}}", container);
            if (running.Output.Trim() != "true" || DateTime.UtcNow > deadline)
            {
                var logs = await Podman.RunAsync(Ct, "logs", container);
                throw new TimeoutException($"{container} did not become healthy: {check}\n--- log ---\n{logs.Output}{logs.Error}");
            }
            await Task.Delay(500, Ct);
        }
    }

    private static async Task WaitForJanusUpAsync(Uri metrics, string parley)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var last = "";
        while (true)
        {
            try
            {
                last = await http.GetStringAsync(metrics, Ct);
                if (JanusUp().IsMatch(last))
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
            {
                last = "timed out";
            }
            if (DateTime.UtcNow > deadline)
            {
                var logs = await Podman.RunAsync(Ct, "logs", parley);
                throw new TimeoutException($"parley never reported parley_janus_up 1 on {metrics}; last: {JanusLine(last)}\n--- parley log ---\n{logs.Output}{logs.Error}");
            }
            await Task.Delay(500, Ct);
        }
    }

    [GeneratedRegex(@"(?m)^parley_janus_up(\{[^}]*\})? 1(\s|$)")]
    private static partial Regex JanusUp();

    private static string JanusLine(string metrics) =>
        metrics.Split('\n').FirstOrDefault(l => l.StartsWith("parley_janus_up", StringComparison.Ordinal)) ?? metrics[..Math.Min(metrics.Length, 300)];

    // StartService runs podman's Docker-compatible API on a socket of this test's own (it inherits
    // the test's network and mount namespaces, and scripts/image-test.sh's containers.conf).
    private static Process StartService(string socket)
    {
        var start = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["system", "service", "--time=0", $"unix://{socket}"])
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start podman system service.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForSocketAsync(Process service, string socket)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!File.Exists(socket))
        {
            if (service.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"podman system service did not open {socket} (exited: {service.HasExited}).");
            }
            await Task.Delay(100, Ct);
        }
    }

    // StopAsync ends the service with SIGTERM (it has nothing to save), then SIGKILL if it lingers.
    private static async Task StopAsync(Process service)
    {
        if (service.HasExited)
        {
            return;
        }
        await Command.RunAsync("kill", ["-TERM", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], CancellationToken.None);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await service.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            service.Kill();
            await service.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
