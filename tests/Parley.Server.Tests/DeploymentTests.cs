using System.Diagnostics;
using Parley.Operations;
using Parley.Testing;
using YamlDotNet.RepresentationModel;

namespace Parley.Server.Tests;

/// <summary>
/// DeploymentTests check what can be checked of the Docker Compose deployment without a container
/// engine: the compose file resolves (Debian's docker-compose validates it offline), every
/// setting it passes is a real configuration key that makes Parley start, and every option it
/// passes to coturn is one coturn knows.
/// </summary>
public sealed partial class DeploymentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string[] AspNetCoreVariables = ["ASPNETCORE_URLS", "ASPNETCORE_FORWARDEDHEADERS_ENABLED"];
    private const string Env = "PARLEY_DOMAIN=meet.example.org\nPARLEY_EXTERNAL_IP=203.0.113.10\nTURN_SECRET=compose-test-secret\nJANUS_API_SECRET=compose-janus-api-secret\nJANUS_ADMIN_KEY=compose-janus-admin-key\n";

    [Fact]
    public async Task The_compose_file_resolves_with_a_filled_env()
    {
        var (code, output) = await ComposeConfig(Env);
        Assert.True(code == 0, output);
        var services = Services(output);
        Assert.Equal(["caddy", "coturn", "janus", "parley"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Order());
        var coturn = (YamlMappingNode)services["coturn"];
        Assert.Equal("host", ((YamlScalarNode)coturn["network_mode"]).Value);
        var image = ((YamlScalarNode)coturn["image"]).Value!;
        Assert.Matches(@"^coturn/coturn:4\.(1[3-9]|[2-9][0-9])\.", image);
    }

    [Theory]
    [InlineData("TURN_SECRET")]
    [InlineData("PARLEY_DOMAIN")]
    [InlineData("PARLEY_EXTERNAL_IP")]
    public async Task The_compose_file_refuses_to_resolve_without_a_required_variable(string variable)
    {
        var env = string.Join('\n', Env.Split('\n').Where(l => !l.StartsWith(variable + "=", StringComparison.Ordinal)));
        var (code, output) = await ComposeConfig(env);
        Assert.NotEqual(0, code);
        Assert.Contains($"set {variable} in .env", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_setting_compose_passes_to_parley_is_a_real_key_and_parley_starts_with_them()
    {
        var (code, output) = await ComposeConfig(Env);
        Assert.True(code == 0, output);
        var environment = (YamlMappingNode)((YamlMappingNode)Services(output)["parley"])["environment"];
        var settings = new Dictionary<string, string?>();
        foreach (var (key, value) in environment.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            var text = ((YamlScalarNode)value).Value;
            if (name.StartsWith("ASPNETCORE_", StringComparison.Ordinal))
            {
                Assert.Contains(name, AspNetCoreVariables);
                continue;
            }
            var path = name.Split("__");
            Assert.True(ConfigurationKeys.IsParleySetting(path), $"{name} is not a Parley setting");
            settings[string.Join(':', path)] = text;
        }

        await using var server = await ParleyTestServer.StartAsync(settings, Ct);
        var (client, joined) = await SignalingClient.ConnectAndJoinAsync(server.WebSocketUri, "compose", "Ada", Ct);
        await using var c = client;
        var ice = joined.GetProperty("iceServers");
        Assert.Equal("stun:meet.example.org:3478", ice[0].GetProperty("urls")[0].GetString());
        Assert.Equal("turn:meet.example.org:3478?transport=udp", ice[1].GetProperty("urls")[0].GetString());
        Assert.EndsWith(":" + client.Id, ice[1].GetProperty("username").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_option_compose_passes_to_coturn_is_one_coturn_knows_and_the_secret_is_not_among_them()
    {
        var (code, output) = await ComposeConfig(Env);
        Assert.True(code == 0, output);
        var coturn = (YamlMappingNode)Services(output)["coturn"];
        var script = string.Join('\n', ((YamlSequenceNode)coturn["entrypoint"]).Children.Select(n => ((YamlScalarNode)n).Value!));
        Assert.DoesNotContain("compose-test-secret", script, StringComparison.Ordinal);
        Assert.Contains("static-auth-secret=%s", script, StringComparison.Ordinal);
        Assert.Equal("compose-test-secret", ((YamlScalarNode)((YamlMappingNode)coturn["environment"])["TURN_SECRET"]).Value);

        var help = await Run("turnserver", ["--help"]);
        var options = CoturnOption().Matches(script).Select(m => m.Value).Distinct().ToList();
        Assert.Contains("--external-ip", options);
        foreach (var option in options)
        {
            Assert.True(help.Output.Contains(option, StringComparison.Ordinal), $"coturn does not know {option}");
        }
        // static-auth-secret, appended to the config at start, is a setting coturn knows too.
        Assert.Contains("--static-auth-secret", help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_coturn_start_script_appends_the_secret_and_stops_without_one()
    {
        var (code, output) = await ComposeConfig(Env);
        Assert.True(code == 0, output);
        var coturn = (YamlMappingNode)Services(output)["coturn"];
        // `config` prints a compose file, so "$" is still escaped as "$$"; the container sees "$".
        var script = ((YamlScalarNode)((YamlSequenceNode)coturn["entrypoint"]).Children[2]).Value!.Replace("$$", "$", StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("parley-coturn-start-");
        try
        {
            // Run the script as the container would, with turnserver replaced by a stub that prints its config.
            var conf = Path.Combine(ParleyTestServer.SourceRoot, "deploy", "coturn", "turnserver.conf");
            var local = script.Replace("/etc/coturn/turnserver.conf", conf, StringComparison.Ordinal)
                .Replace("/run/coturn/", dir.FullName + "/", StringComparison.Ordinal)
                .Replace("exec turnserver -c", "exec cat", StringComparison.Ordinal)
                .Replace(" --external-ip=\"$PARLEY_EXTERNAL_IP\"", "", StringComparison.Ordinal);
            var ran = await Run("/bin/sh", ["-c", $"TURN_SECRET=s3cret PARLEY_EXTERNAL_IP=203.0.113.10; export TURN_SECRET PARLEY_EXTERNAL_IP; {local}"]);
            Assert.Equal(0, ran.Code);
            Assert.EndsWith("static-auth-secret=s3cret\n", ran.Output, StringComparison.Ordinal);
            if (!OperatingSystem.IsLinux())
            {
                Assert.Fail("the deployment runs on Linux");
                return;
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir.FullName, "turnserver.conf")));

            var unset = await Run("/bin/sh", ["-c", local]);
            Assert.NotEqual(0, unset.Code);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_healthcheck_mode_answers_0_for_a_running_server_and_1_for_none()
    {
        await using var server = await ParleyTestServer.StartAsync(null, Ct);
        using var output = new StringWriter();
        Assert.Equal(0, await HealthCheck.RunAsync([HealthCheck.Flag, new Uri(server.BaseUri, "/healthz").ToString()], output));
        Assert.Contains("healthy", output.ToString(), StringComparison.Ordinal);

        var closedPort = server.BaseUri.Port;
        await server.DisposeAsync();
        using var down = new StringWriter();
        Assert.Equal(1, await HealthCheck.RunAsync([HealthCheck.Flag, $"http://127.0.0.1:{closedPort}/healthz"], down));
        Assert.Contains("unhealthy", down.ToString(), StringComparison.Ordinal);

        using var bad = new StringWriter();
        Assert.Equal(2, await HealthCheck.RunAsync([HealthCheck.Flag, "not a url"], bad));
    }

    [System.Text.RegularExpressions.GeneratedRegex("--[a-z][a-z0-9-]*")]
    private static partial System.Text.RegularExpressions.Regex CoturnOption();

    private static YamlMappingNode Services(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["services"];
    }

    private static async Task<(int Code, string Output)> ComposeConfig(string env)
    {
        var dir = Directory.CreateTempSubdirectory("parley-compose-");
        try
        {
            File.Copy(Path.Combine(ParleyTestServer.SourceRoot, "compose.yaml"), Path.Combine(dir.FullName, "compose.yaml"));
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, ".env"), env, Ct);
            return await Run("docker-compose", ["-f", Path.Combine(dir.FullName, "compose.yaml"), "config"], dir.FullName);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(int Code, string Output)> Run(string file, string[] args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>ConfigurationKeys tells whether a configuration path binds to a property of an options type.</summary>
internal static class ConfigurationKeys
{
    /// <summary>Sections are each feature's options class and the section it binds.</summary>
    private static readonly (string[] Section, Type Type)[] Sections =
    [
        (["Parley"], typeof(Parley.Signaling.SignalingOptions)),
        (["Parley"], typeof(Parley.Turn.IceOptions)),
        (["Parley", "Sfu"], typeof(Parley.Sfu.SfuOptions)),
    ];

    /// <summary>IsParleySetting is true when <paramref name="path"/> (e.g. Parley, Turn, Urls, 0) binds to a property of a feature's options.</summary>
    public static bool IsParleySetting(ReadOnlySpan<string> path)
    {
        foreach (var (section, type) in Sections)
        {
            if (path.StartsWith(section) && Exists(type, path[section.Length..]))
            {
                return true;
            }
        }
        return false;
    }

    public static bool Exists(Type type, ReadOnlySpan<string> path)
    {
        if (path.IsEmpty)
        {
            return true;
        }
        var property = type.GetProperty(path[0], System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
        if (property is null)
        {
            return false;
        }
        var next = property.PropertyType;
        var rest = path[1..];
        if (next != typeof(string) && next.IsGenericType && next.GetGenericTypeDefinition() == typeof(IList<>))
        {
            if (rest.IsEmpty || !int.TryParse(rest[0], out _))
            {
                return false;
            }
            next = next.GetGenericArguments()[0];
            rest = rest[1..];
        }
        return next == typeof(string) || next.IsValueType ? rest.IsEmpty : Exists(next, rest);
    }
}
