using System.Net.NetworkInformation;

namespace Parley.Image.Tests;

/// <summary>
/// TestImages says which images the tests run and whether they may skip. scripts/image-test.sh
/// builds the images, then runs these tests with PARLEY_IMAGE_REQUIRED=1 inside a network
/// namespace of its own: there a missing image fails the test. Anywhere else (a contributor's
/// <c>dotnet test</c> without root or without the images) the tests skip, saying why.
/// </summary>
public static class TestImages
{
    /// <summary>RunLabel is the label every container of a run carries, with <see cref="Run"/> as its value.</summary>
    public const string RunLabel = "parley.image-test";

    private const string HowToRun = "scripts/image-test.sh builds the images and runs these tests (as root, in a network namespace of their own)";

    /// <summary>Parley is Parley's image, by the name compose.yaml gives it (<c>$PARLEY_IMAGE_PARLEY</c> overrides).</summary>
    public static string Parley { get; } = Setting("PARLEY_IMAGE_PARLEY") ?? "localhost/parley:latest";

    /// <summary>Janus is Parley's Janus image, by the name compose.yaml gives it (<c>$PARLEY_IMAGE_JANUS</c> overrides).</summary>
    public static string Janus { get; } = Setting("PARLEY_IMAGE_JANUS") ?? "localhost/parley-janus:latest";

    /// <summary>Required is true under scripts/image-test.sh, where the images exist: nothing may skip.</summary>
    public static bool Required { get; } = Setting("PARLEY_IMAGE_REQUIRED") == "1";

    /// <summary>Run tells this run's containers from any other's.</summary>
    public static string Run { get; } = Setting("PARLEY_IMAGE_RUN") ?? Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>ComposeProject is the Compose project name of this run (its containers, network and volume carry it).</summary>
    public static string ComposeProject { get; } = Setting("PARLEY_IMAGE_COMPOSE_PROJECT") ?? $"parleyimagetest{Environment.ProcessId}";

    /// <summary>
    /// RequireAsync skips the test, with the reason, unless it can run here: root, podman, every
    /// one of <paramref name="images"/>, and a network namespace holding only loopback (plus the
    /// bridges and veths podman makes in it). Under scripts/image-test.sh a missing piece fails.
    /// </summary>
    public static async Task RequireAsync(CancellationToken cancellationToken, params string[] images)
    {
        var reason = await MissingAsync(images, cancellationToken);
        if (reason is not null)
        {
            if (Required)
            {
                Assert.Fail($"{reason}, and PARLEY_IMAGE_REQUIRED=1 says the images were built.");
            }
            Assert.Skip($"{reason}: {HowToRun}.");
        }
        EnsureIsolated();
    }

    /// <summary>SourceRoot is the repository (compose.yaml, the Dockerfiles).</summary>
    public static string SourceRoot => ParleyTestServer.SourceRoot;

    private static async Task<string?> MissingAsync(string[] images, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "The image tests need root (rootful podman)";
        }
        if (!OnPath("podman"))
        {
            return "No podman (apt-get install podman)";
        }
        foreach (var image in images)
        {
            if (!await Podman.ImageExistsAsync(image, cancellationToken))
            {
                return $"No image {image}";
            }
        }
        return null;
    }

    /// <summary>
    /// EnsureIsolated throws unless this network namespace holds nothing but <c>lo</c> and what
    /// podman makes in it (its bridges and their veths): no browser or container may reach a
    /// real interface.
    /// </summary>
    public static void EnsureIsolated()
    {
        // From netlink, not /sys/class/net: under nsenter, /sys still shows the namespace that mounted it.
        var foreign = NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name)
            .Where(name => name is not "lo" && !name.StartsWith("podman", StringComparison.Ordinal) && !name.StartsWith("veth", StringComparison.Ordinal))
            .ToArray();
        if (foreign.Length > 0)
        {
            throw new InvalidOperationException(
                $"The image tests must run in a network namespace holding only lo, so nothing a container or a browser sends can leave this machine; this one also has {string.Join(", ", foreign)}. {HowToRun}.");
        }
    }

    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));

    private static string? Setting(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
