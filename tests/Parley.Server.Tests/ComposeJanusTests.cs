using System.Text.RegularExpressions;
using Parley.Testing;
using YamlDotNet.RepresentationModel;

namespace Parley.Server.Tests;

// ComposeJanusTests is nested in DeploymentTests to use its docker-compose helpers (ComposeConfig,
// Run, Services) instead of copies of them.
public sealed partial class DeploymentTests
{
    /// <summary>
    /// ComposeJanusTests check the Compose deployment's Janus service offline, as DeploymentTests do
    /// for the rest (Debian's docker-compose resolves the file): it needs both Janus secrets, runs
    /// on the host's network, gets its secrets only through its environment, and shares its API
    /// socket with Parley. The image itself is checked by tests/Parley.Sfu.Tests.
    /// </summary>
    public sealed class ComposeJanusTests
    {
        private const string ApiSecret = "compose-janus-api-secret-0123";
        private const string AdminKey = "compose-janus-admin-key-0123";
        private const string JanusEnv = Env + $"JANUS_API_SECRET={ApiSecret}\nJANUS_ADMIN_KEY={AdminKey}\n";

        [Fact]
        public async Task The_compose_file_resolves_with_the_Janus_secrets_and_runs_Janus_on_the_host_network_for_parley()
        {
            var services = await ResolveAsync(JanusEnv);

            var janus = (YamlMappingNode)services["janus"];
            Assert.Equal("host", Scalar(janus, "network_mode"));
            Assert.Equal("true", Scalar(janus, "read_only"));
            Assert.Equal("deploy/janus/Dockerfile", Scalar((YamlMappingNode)janus["build"], "dockerfile"));
            Assert.Equal("203.0.113.10", Scalar((YamlMappingNode)janus["environment"], "JANUS_NAT_1_1"));
            // The entrypoint's default JANUS_CONFIG_DIR is a tmpfs: the secrets never reach a disk.
            Assert.Contains(((YamlSequenceNode)janus["tmpfs"]).Children, t => ((YamlScalarNode)t).Value!.StartsWith("/run/janus-config:", StringComparison.Ordinal));

            var parley = (YamlMappingNode)services["parley"];
            var environment = (YamlMappingNode)parley["environment"];
            Assert.Equal("unix:/run/janus/ws.sock", Scalar(environment, "Parley__Sfu__JanusUrl"));
            Assert.Equal(ApiSecret, Scalar(environment, "Parley__Sfu__ApiSecret"));
            Assert.Equal(AdminKey, Scalar(environment, "Parley__Sfu__AdminKey"));
            Assert.Contains("janus", ((YamlMappingNode)parley["depends_on"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        }

        [Theory]
        [InlineData("JANUS_API_SECRET")]
        [InlineData("JANUS_ADMIN_KEY")]
        public async Task The_compose_file_refuses_to_resolve_without_a_Janus_secret(string variable)
        {
            var env = string.Join('\n', JanusEnv.Split('\n').Where(l => !l.StartsWith(variable + "=", StringComparison.Ordinal)));

            var (code, output) = await ComposeConfig(env);

            Assert.NotEqual(0, code);
            Assert.Contains($"set {variable} in .env", output, StringComparison.Ordinal);
        }

        [Fact]
        public async Task The_Janus_secrets_reach_the_janus_service_only_through_its_environment()
        {
            var janus = (YamlMappingNode)(await ResolveAsync(JanusEnv))["janus"];

            var environment = (YamlMappingNode)janus["environment"];
            Assert.Equal(ApiSecret, Scalar(environment, "JANUS_API_SECRET"));
            Assert.Equal(AdminKey, Scalar(environment, "JANUS_ADMIN_KEY"));
            // Everything else of the service (command, entrypoint, build args, labels…) holds neither.
            var rest = new YamlMappingNode(janus.Children.Where(c => ((YamlScalarNode)c.Key).Value != "environment"));
            using var writer = new StringWriter();
            new YamlStream(new YamlDocument(rest)).Save(writer, assignAnchors: false);
            Assert.DoesNotContain(ApiSecret, writer.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(AdminKey, writer.ToString(), StringComparison.Ordinal);

            // The image starts the entrypoint script, which takes them from the environment, with no arguments.
            var dockerfile = await File.ReadAllTextAsync(Path.Combine(ParleyTestServer.SourceRoot, "deploy", "janus", "Dockerfile"), Ct);
            Assert.Matches(@"(?m)^ENTRYPOINT \[""/usr/local/bin/parley-janus-entrypoint""\]$", dockerfile);
            Assert.DoesNotMatch(@"(?m)^(CMD|ENTRYPOINT|ARG|ENV)\b.*JANUS_(API_SECRET|ADMIN_KEY)", dockerfile);
        }

        [Fact]
        public async Task Janus_and_parley_share_the_API_socket_at_the_path_Janus_s_config_names()
        {
            var services = await ResolveAsync(JanusEnv);

            Assert.Equal("janus-socket:/run/janus:rw", Assert.Single(Volumes(services, "janus")));
            Assert.Contains("janus-socket:/run/janus:ro", Volumes(services, "parley"));
            var websockets = await File.ReadAllTextAsync(Path.Combine(ParleyTestServer.SourceRoot, "deploy", "janus", "janus.transport.websockets.jcfg"), Ct);
            Assert.Matches(@"(?m)^\s*ws_unix = ""/run/janus/ws\.sock""", websockets);
        }

        [Fact]
        public async Task The_env_example_filled_in_by_gen_secrets_resolves_and_a_second_run_keeps_every_secret()
        {
            var dir = Directory.CreateTempSubdirectory("parley-gen-secrets-");
            try
            {
                var env = Path.Combine(dir.FullName, ".env");
                File.Copy(Path.Combine(ParleyTestServer.SourceRoot, ".env.example"), env);
                var script = Path.Combine(ParleyTestServer.SourceRoot, "scripts", "gen-secrets.sh");

                var first = await Run(script, [env]);
                Assert.True(first.Code == 0, first.Output);
                var filled = await File.ReadAllTextAsync(env, Ct);
                var second = await Run(script, [env]);
                Assert.True(second.Code == 0, second.Output);

                Assert.Equal(filled, await File.ReadAllTextAsync(env, Ct));
                if (!OperatingSystem.IsLinux())
                {
                    Assert.Fail("the deployment runs on Linux");
                    return;
                }
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(env));
                string[] names = ["TURN_SECRET", "JANUS_API_SECRET", "JANUS_ADMIN_KEY"];
                var secrets = names.Select(n => Regex.Match(filled, $"(?m)^{n}=(.*)$").Groups[1].Value).ToArray();
                Assert.All(secrets, s => Assert.Matches("^[A-Za-z0-9_-]{64}$", s));
                Assert.Equal(3, secrets.Distinct().Count());

                var parley = (YamlMappingNode)(await ResolveAsync(filled))["parley"];
                Assert.Equal(secrets[1], Scalar((YamlMappingNode)parley["environment"], "Parley__Sfu__ApiSecret"));
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }

        private static async Task<YamlMappingNode> ResolveAsync(string env)
        {
            var (code, output) = await ComposeConfig(env);
            Assert.True(code == 0, output);
            return Services(output);
        }

        private static string? Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value;

        private static IEnumerable<string> Volumes(YamlMappingNode services, string service) =>
            ((YamlSequenceNode)((YamlMappingNode)services[service])["volumes"]).Children.Select(v => ((YamlScalarNode)v).Value!);
    }
}
