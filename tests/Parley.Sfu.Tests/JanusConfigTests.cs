using Parley.Testing;

namespace Parley.Sfu.Tests;

/// <summary>
/// JanusConfigTests read deploy/janus/*.jcfg without running them: no secret, Admin API or static
/// room in the shipped files, every setting explained, and every module Debian's package ships
/// but the two Parley needs switched off by name, so none loads even if its section's main switch
/// (events: broadcast) is flipped. ProductionJanusTests then run the files.
/// </summary>
public sealed class JanusConfigTests
{
    private static readonly IReadOnlyDictionary<string, string> Files = JanusConfig.Production();

    [Fact]
    public void Parley_ships_exactly_the_core_the_websocket_and_the_videoroom_configuration()
    {
        Assert.Equal([JanusConfig.Core, JanusConfig.VideoRoom, JanusConfig.WebSockets], Files.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_setting_has_a_comment_on_its_line_or_the_line_above()
    {
        var uncommented = new List<string>();
        foreach (var (name, text) in Files)
        {
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                var isSetting = line.Length > 0 && !line.StartsWith('#') && line.Contains('=', StringComparison.Ordinal);
                if (isSetting && !line.Contains('#', StringComparison.Ordinal) && (i == 0 || !lines[i - 1].TrimStart().StartsWith('#')))
                {
                    uncommented.Add($"{name}:{i + 1}: {line}");
                }
            }
        }

        Assert.Empty(uncommented);
    }

    [Fact]
    public void The_shipped_files_hold_placeholders_instead_of_secrets_and_no_Admin_API_or_static_room()
    {
        var core = Settings(JanusConfig.Core);
        var websockets = Settings(JanusConfig.WebSockets);
        var videoroom = Settings(JanusConfig.VideoRoom);

        Assert.Equal(JanusConfig.ApiSecretPlaceholder, core["api_secret"]);
        Assert.Equal(JanusConfig.AdminKeyPlaceholder, videoroom["admin_key"]);
        Assert.Equal("true", videoroom["lock_rtp_forward"]);
        Assert.DoesNotContain("admin_secret", core.Keys);
        Assert.Equal("false", core["token_auth"]);
        Assert.Equal("60", core["session_timeout"]);
        Assert.Equal("true", core["full_trickle"]);
        Assert.Equal("20000-40000", core["rtp_port_range"]);
        Assert.Equal("false", core["broadcast"]);
        Assert.Equal("false", websockets["admin_ws"]);
        Assert.Equal("false", websockets["admin_wss"]);
        Assert.Equal("false", websockets["wss"]);
        Assert.Equal("/run/janus/ws.sock", websockets["ws_unix"]);
        // No TCP listener at all: with ws_unix set, a ws_port/ws_ip would be dead text that suggests otherwise.
        Assert.DoesNotContain("ws_port", websockets.Keys);
        Assert.DoesNotContain("ws_ip", websockets.Keys);
        // A static room is a section "room-<id>: { ... }" of the VideoRoom file.
        Assert.DoesNotMatch(@"(?m)^\s*room-", Files[JanusConfig.VideoRoom]);
    }

    [Fact]
    public void Every_module_Debian_ships_but_VideoRoom_and_WebSockets_is_disabled_by_name()
    {
        var installed = Directory.GetDirectories("/usr/lib").Select(d => Path.Combine(d, "janus")).FirstOrDefault(Directory.Exists)
            ?? throw new InvalidOperationException("No /usr/lib/<arch>/janus: apt-get install janus (scripts/test.sh installs it as root).");
        var core = Files[JanusConfig.Core];
        string[] keep = ["libjanus_videoroom.so", "libjanus_websockets.so"];

        foreach (var (folder, section) in new[] { ("plugins", "plugins"), ("transports", "transports"), ("loggers", "loggers"), ("events", "events") })
        {
            var shipped = Directory.GetFiles(Path.Combine(installed, folder), "*.so").Select(Path.GetFileName).Except(keep).Order(StringComparer.Ordinal);
            var disabled = DisableList(core, section);

            Assert.Equal(shipped, disabled.Order(StringComparer.Ordinal));
        }
    }

    private static Dictionary<string, string> Settings(string file) =>
        JanusConfig.Settings(Files[file]).Where(s => s.Name != "disable").ToDictionary(s => s.Name, s => s.Value);

    // DisableList is the `disable` value of one section of janus.jcfg, split at the commas.
    private static string[] DisableList(string core, string section)
    {
        var start = core.IndexOf($"\n{section}: {{", StringComparison.Ordinal);
        Assert.True(start >= 0, $"janus.jcfg has no {section} section");
        var body = core[start..core.IndexOf("\n}", start, StringComparison.Ordinal)];
        var disable = JanusConfig.Settings(body).Single(s => s.Name == "disable").Value;
        return disable.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }
}
