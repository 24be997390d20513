using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// Commands runs the short helper commands the fixtures build their networks with (ip, nft,
/// sysctl, ss, chown) to completion, and makes the start information of the long-running ones.
/// </summary>
public static class Commands
{
    /// <summary>CleanupTimeout bounds each <see cref="TryRunAsync"/>: cleanup must not hang a test run.</summary>
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(10);

    /// <summary>ToTestOutput reports a line to the running test's output, which the runner shows when the test fails.</summary>
    public static void ToTestOutput(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>StartInfo starts <paramref name="commandLine"/> (program, then arguments) with its standard output and error redirected.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> commandLine)
    {
        var start = new ProcessStartInfo(commandLine[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in commandLine.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    /// <summary>
    /// RunAsync runs <paramref name="commandLine"/> (program, then arguments) and returns its standard
    /// output; it throws <see cref="InvalidOperationException"/>, with the command's standard error, if
    /// the command fails.
    /// </summary>
    public static async Task<string> RunAsync(CancellationToken cancellationToken, params string[] commandLine)
    {
        using var process = Process.Start(StartInfo(commandLine)) ?? throw new InvalidOperationException($"Could not start {commandLine[0]}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            var message = (await error).Trim();
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"{string.Join(' ', commandLine)} failed ({process.ExitCode}): {message}"));
        }
        return await output;
    }

    /// <summary>
    /// TryRunAsync runs <paramref name="commandLine"/> for cleanup, within 10 s: a failure goes to
    /// <paramref name="report"/> (as <c>cleanup: …</c>) and false is returned, nothing is thrown.
    /// </summary>
    public static async Task<bool> TryRunAsync(Action<string> report, params string[] commandLine)
    {
        try
        {
            using var deadline = new CancellationTokenSource(CleanupTimeout);
            await RunAsync(deadline.Token, commandLine);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            report($"cleanup: {e.Message}");
            return false;
        }
    }
}
