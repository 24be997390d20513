using System.Text.RegularExpressions;

namespace Parley.Testing;

/// <summary>
/// JanusConfig reads Parley's production Janus configuration (deploy/janus/*.jcfg) and makes
/// copies with single settings replaced, so every test runs the shipped files and changes only
/// what it must. A replacement that finds nothing to replace throws: a renamed setting in the
/// production files must fail the tests, not silently leave the production value in force.
/// </summary>
public static partial class JanusConfig
{
    /// <summary>ApiSecretPlaceholder and AdminKeyPlaceholder are what the shipped files hold instead of the secrets.</summary>
    public const string ApiSecretPlaceholder = "@JANUS_API_SECRET@";

    public const string AdminKeyPlaceholder = "@JANUS_ADMIN_KEY@";

    public const string Core = "janus.jcfg";

    public const string WebSockets = "janus.transport.websockets.jcfg";

    public const string VideoRoom = "janus.plugin.videoroom.jcfg";

    /// <summary>ProductionDirectory is deploy/janus in this repository.</summary>
    public static string ProductionDirectory => Path.Combine(ParleyTestServer.SourceRoot, "deploy", "janus");

    /// <summary>Production maps each shipped file name (janus.jcfg, …) to its text.</summary>
    public static IReadOnlyDictionary<string, string> Production() =>
        Directory.GetFiles(ProductionDirectory, "*.jcfg").Order(StringComparer.Ordinal)
            .ToDictionary(path => Path.GetFileName(path), File.ReadAllText);

    /// <summary>
    /// ReplaceSetting replaces the whole line that sets <paramref name="name"/> (its trailing
    /// comment too) with <paramref name="lines"/>, indented like it; it throws unless exactly one
    /// line sets it.
    /// </summary>
    public static string ReplaceSetting(string text, string name, params string[] lines)
    {
        var pattern = new Regex($@"^([ \t]*){Regex.Escape(name)}[ \t]*=.*$", RegexOptions.Multiline);
        var matches = pattern.Matches(text);
        if (matches.Count != 1)
        {
            throw new InvalidOperationException($"Expected exactly one line setting {name}, found {matches.Count}.");
        }
        var indent = matches[0].Groups[1].Value;
        return pattern.Replace(text, string.Join('\n', lines.Select(l => indent + l)));
    }

    /// <summary>ReplacePlaceholder replaces <paramref name="placeholder"/> everywhere; it throws if it is not there.</summary>
    public static string ReplacePlaceholder(string text, string placeholder, string value) =>
        text.Contains(placeholder, StringComparison.Ordinal)
            ? text.Replace(placeholder, value, StringComparison.Ordinal)
            : throw new InvalidOperationException($"{placeholder} is not in the configuration.");

    /// <summary>Settings are the <c>name = value</c> lines of a .jcfg, with the value's quotes removed and comments dropped.</summary>
    public static IEnumerable<(string Name, string Value)> Settings(string text) =>
        SettingLine().Matches(text).Select(m => (m.Groups["name"].Value, m.Groups["value"].Value.Trim().Trim('"')));

    /// <summary>WriteDirectoryAsync writes <paramref name="files"/> into <paramref name="directory"/>, each readable by its owner only: they hold secrets.</summary>
    public static async Task WriteDirectoryAsync(string directory, IReadOnlyDictionary<string, string> files, CancellationToken cancellationToken)
    {
        foreach (var (name, text) in files)
        {
            await PrivateFile.WriteAsync(Path.Combine(directory, name), text, cancellationToken, FileMode.Create);
        }
    }

    // SettingLine: `name = value` up to a comment (libconfig's '#'); values in this project never hold '#'.
    [GeneratedRegex(@"^[ \t]*(?<name>[a-z_0-9]+)[ \t]*=[ \t]*(?<value>[^#\r\n]*)", RegexOptions.Multiline)]
    private static partial Regex SettingLine();
}
