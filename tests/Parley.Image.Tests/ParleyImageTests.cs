using System.Net;

namespace Parley.Image.Tests;

/// <summary>
/// ParleyImageTests run the image built from the project's Dockerfile the way compose.yaml runs
/// it (read-only, a tmpfs on /tmp, the image's own user), reached through a published port on
/// 127.0.0.1 of the test's namespace.
/// </summary>
public sealed class ParleyImageTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>ReadOnly is how compose.yaml runs the parley service.</summary>
    private static readonly string[] ReadOnly = ["--read-only", "--tmpfs", "/tmp"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_image_runs_read_only_as_uid_1654_answers_healthz_and_passes_its_own_healthcheck()
    {
        await TestImages.RequireAsync(Ct, TestImages.Parley);
        // The HEALTHCHECK survived the build (the OCI format drops it) and is Parley's own --healthcheck.
        var healthcheck = await Podman.CheckedAsync(Ct, "image", "inspect", "--format", "{{json .Config.Healthcheck}}", TestImages.Parley);
        Assert.Contains("--healthcheck", healthcheck, StringComparison.Ordinal);
        // USER $APP_UID: the base image defined APP_UID, or this would be empty and the app root.
        Assert.Equal("1654", await Podman.CheckedAsync(Ct, "image", "inspect", "--format", "{{.Config.User}}", TestImages.Parley));

        var port = Podman.FreePort();
        await using var parley = await Container.StartAsync(TestImages.Parley, [.. ReadOnly, "-p", $"127.0.0.1:{port}:8080"], Ct);
        var elapsed = await WaitForHealthzAsync(parley, port);
        TestContext.Current.TestOutputHelper?.WriteLine($"/healthz answered 200 {elapsed.TotalSeconds:0.0} s after the start");

        Assert.Equal("1654", (await parley.ExecAsync(Ct, "id", "-u")).Output.Trim());
        // PID 1 is the server itself (the ENTRYPOINT's exec form), and all of its uids are 1654.
        var status = (await parley.ExecAsync(Ct, "cat", "/proc/1/status")).Output;
        Assert.Matches(@"(?m)^Uid:\s+1654\s+1654\s+1654\s+1654$", status);
        Assert.Equal("true", await parley.InspectAsync("{{.HostConfig.ReadonlyRootfs}}", Ct));
        var write = await parley.ExecAsync(Ct, "touch", "/app/written");
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", write.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await parley.ExecAsync(Ct, "touch", "/tmp/written")).ExitCode);

        var check = await parley.HealthcheckAsync(Ct);
        Assert.True(check.ExitCode == 0, $"podman healthcheck run: {check}");
        Assert.Equal("healthy", await parley.InspectAsync("{{.State.Health.Status}}", Ct));
    }

    [Fact]
    public async Task A_bad_setting_stops_the_container_with_the_message_the_server_gives_outside_a_container()
    {
        await TestImages.RequireAsync(Ct, TestImages.Parley);
        // A self-hoster's likely slip: the origin without its scheme.
        const string Setting = "Parley__AllowedOrigins__0";
        const string Value = "meet.example.org";

        var inContainer = await Podman.RunAsync(Ct, ["run", "--rm", "--label", $"{TestImages.RunLabel}={TestImages.Run}", .. ReadOnly, "-e", $"{Setting}={Value}", TestImages.Parley]);
        var direct = await Command.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"), "--urls", "http://127.0.0.1:0"], Ct,
            new Dictionary<string, string?> { [Setting] = Value }, workingDirectory: AppContext.BaseDirectory);

        // The same exit code both ways: the server refuses a bad setting itself (exit 1) rather
        // than crash (as the container's PID 1, a crash would have ended it with 139, not 134).
        Assert.True(direct.ExitCode == 1, $"the server started with {Setting}={Value}, or crashed: {direct}");
        Assert.True(inContainer.ExitCode == 1, $"the container started with {Setting}={Value}, or crashed: {inContainer}");
        var expected = Refusal(direct);
        Assert.Contains("Parley:AllowedOrigins entry 'meet.example.org' must be an origin", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Refusal(inContainer));
    }

    [Fact]
    public async Task The_build_context_holds_the_sources_but_no_build_output_tests_or_docs()
    {
        await TestImages.RequireAsync(Ct, "localhost/debian:bookworm");
        // What `COPY src/ src/` and any COPY of the context can see: the context after .dockerignore.
        var directory = Directory.CreateTempSubdirectory("parley-image-context-");
        var image = $"localhost/parley-context-probe:{TestImages.Run}";
        try
        {
            var containerfile = Path.Combine(directory.FullName, "Containerfile");
            await File.WriteAllTextAsync(containerfile, "FROM localhost/debian:bookworm\nCOPY . /context/\n", Ct);
            await Podman.CheckedAsync(Ct, "build", "--quiet", "--network", "none", "--pull=never", "-f", containerfile, "-t", image, TestImages.SourceRoot);
            var files = (await Podman.CheckedAsync(Ct, "run", "--rm", "--network", "none", "--label", $"{TestImages.RunLabel}={TestImages.Run}", image,
                "find", "/context", "-mindepth", "1", "-printf", "%P\\n")).Split('\n');

            Assert.Contains("src/Parley.Server/Parley.Server.csproj", files);
            Assert.Contains("src/Parley.Server/wwwroot/index.html", files);
            Assert.Contains("deploy/janus/entrypoint.sh", files);
            var unwanted = files.Where(f => f.Split('/').Any(part => part is "bin" or "obj")
                || f.Split('/')[0] is "tests" or "bench" or "docs" or ".git" or ".env" || f.EndsWith(".md", StringComparison.Ordinal)).ToArray();
            Assert.True(unwanted.Length == 0, $"the build context holds {unwanted.Length} paths .dockerignore should keep out, e.g. {string.Join(", ", unwanted.Take(5))}");
        }
        finally
        {
            await Podman.RunAsync(CancellationToken.None, "rmi", "-f", image);
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_image_serves_a_call_between_two_browsers_with_media_both_ways()
    {
        await TestImages.RequireAsync(Ct, TestImages.Parley);
        var port = Podman.FreePort();
        await using var parley = await Container.StartAsync(TestImages.Parley, [.. ReadOnly, "-p", $"127.0.0.1:{port}:8080"], Ct);
        await WaitForHealthzAsync(parley, port);
        // Started here rather than as a fixture, so a run without the images skips without a browser.
        var chromium = new Chromium();
        await chromium.InitializeAsync();
        await using var browser = chromium;

        var baseUri = new Uri($"http://127.0.0.1:{port}/");
        var room = TestRooms.New();
        await using var ada = await Participant.OpenRoomAsync(chromium.Browser, baseUri, room, "Ada");
        await using var grace = await Participant.OpenRoomAsync(chromium.Browser, baseUri, room, "Grace");
        await ada.JoinAsync();
        await grace.JoinAsync();

        await MediaFlow.WaitForPairAsync(ada, grace, Ct);
    }

    // Refusal is the "Parley cannot start: <message>" line the server prints when a setting fails validation.
    private static string Refusal(CommandResult run) =>
        run.Error.Split('\n').FirstOrDefault(line => line.StartsWith("Parley cannot start:", StringComparison.Ordinal))?.TrimEnd()
        ?? throw new Xunit.Sdk.XunitException($"no 'Parley cannot start:' line: {run}");

    // WaitForHealthzAsync polls /healthz through the published port until it answers 200.
    private static async Task<TimeSpan> WaitForHealthzAsync(Container container, int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = DateTime.UtcNow;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"), Ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return DateTime.UtcNow - started;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
            {
                // The 2 s request timeout.
            }
            if (!await container.IsRunningAsync(Ct) || DateTime.UtcNow - started > StartTimeout)
            {
                throw new TimeoutException($"{container.Image} did not answer /healthz on 127.0.0.1:{port}:\n{await container.LogsAsync(Ct)}");
            }
            await Task.Delay(200, Ct);
        }
    }

}
