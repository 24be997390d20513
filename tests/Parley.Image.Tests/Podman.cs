using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.Image.Tests;

/// <summary>CommandResult is a finished command: its exit code and what it printed.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Output.TrimEnd()}\n--- stderr ---\n{Error.TrimEnd()}";
}

/// <summary>Command runs a program to completion, with a deadline, and keeps its output.</summary>
public static class Command
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish within {(timeout ?? DefaultTimeout).TotalSeconds:0} s.");
        }
        return new CommandResult(process.ExitCode, await output, await error);
    }
}

/// <summary>Podman runs Debian's podman (rootful, in the test's network namespace).</summary>
public static class Podman
{
    public static Task<CommandResult> RunAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Command.RunAsync("podman", arguments, cancellationToken);

    /// <summary>CheckedAsync runs podman and returns its trimmed output, or throws with everything it printed.</summary>
    public static async Task<string> CheckedAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var result = await RunAsync(cancellationToken, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"podman {string.Join(' ', arguments)} failed: {result}");
        }
        return result.Output.Trim();
    }

    public static async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
        (await RunAsync(cancellationToken, "image", "exists", image)).ExitCode == 0;

    /// <summary>FreePort is a TCP port on 127.0.0.1 nothing listens on now (the namespace is the test run's own).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// Container is one container of a test, started detached with the run's label (so
/// scripts/image-test.sh removes it even if the test process dies) and removed at dispose, its
/// log written to the test's output first.
/// </summary>
public sealed class Container : IAsyncDisposable
{
    private static int s_started;

    private Container(string name, string image)
    {
        Name = name;
        Image = image;
    }

    public string Name { get; }

    public string Image { get; }

    /// <summary>StartAsync runs <c>podman run -d</c> with <paramref name="options"/>, then the image and <paramref name="command"/>.</summary>
    public static async Task<Container> StartAsync(string image, IEnumerable<string> options, CancellationToken cancellationToken, params string[] command)
    {
        var name = $"parley-image-test-{TestImages.Run}-{Interlocked.Increment(ref s_started)}";
        await Podman.CheckedAsync(cancellationToken, ["run", "-d", "--name", name, "--label", $"{TestImages.RunLabel}={TestImages.Run}", .. options, image, .. command]);
        return new Container(name, image);
    }

    public Task<CommandResult> ExecAsync(CancellationToken cancellationToken, params string[] command) =>
        Podman.RunAsync(cancellationToken, ["exec", Name, .. command]);

    /// <summary>HealthcheckAsync runs the image's HEALTHCHECK once (<c>podman healthcheck run</c>): periodic checks need systemd.</summary>
    public Task<CommandResult> HealthcheckAsync(CancellationToken cancellationToken) =>
        Podman.RunAsync(cancellationToken, "healthcheck", "run", Name);

    public Task<string> InspectAsync(string format, CancellationToken cancellationToken) =>
        Podman.CheckedAsync(cancellationToken, "container", "inspect", "--format", format, Name);

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken) =>
        await InspectAsync("{{.State.Running}}", cancellationToken) == "true";

    public async Task<string> LogsAsync(CancellationToken cancellationToken)
    {
        var logs = await Podman.RunAsync(cancellationToken, "logs", Name);
        return (logs.Output + logs.Error).TrimEnd();
    }

    /// <summary>WaitUntilHealthyAsync runs the HEALTHCHECK until it passes; the container stopping or the deadline fails with its log.</summary>
    public async Task<CommandResult> WaitUntilHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var check = await HealthcheckAsync(cancellationToken);
            if (check.ExitCode == 0)
            {
                return check;
            }
            if (!await IsRunningAsync(cancellationToken) || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} ({Image}) did not become healthy: {check}\n--- container log ---\n{await LogsAsync(cancellationToken)}");
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"--- log of {Name} ({Image}) ---\n{await LogsAsync(deadline.Token)}");
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or TimeoutException)
        {
            // The log is only a diagnosis; removing the container matters.
        }
        await Podman.RunAsync(deadline.Token, "rm", "-f", "-t", "0", Name);
    }
}
