namespace Parley.Testing;

/// <summary>PrivateFile writes the files a fixture makes for itself: configurations that hold secrets, wrapper scripts.</summary>
public static class PrivateFile
{
    /// <summary>
    /// WriteAsync writes <paramref name="text"/> to <paramref name="path"/>, a new file only its owner
    /// can read and write (and run, if <paramref name="executable"/>). <paramref name="mode"/>
    /// <see cref="FileMode.Create"/> also overwrites a file that exists, keeping that file's mode.
    /// </summary>
    public static async Task WriteAsync(string path, string text, CancellationToken cancellationToken, FileMode mode = FileMode.CreateNew, bool executable = false)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | (executable ? UnixFileMode.UserExecute : UnixFileMode.None);
        }
        await using var file = new StreamWriter(path, options);
        await file.WriteAsync(text.AsMemory(), cancellationToken);
    }
}
