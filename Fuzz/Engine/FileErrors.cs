namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// File-system failures in words a user reads on one line ("no space left on device",
/// "permission denied"), instead of .NET's exception text. On Linux .NET carries errno in
/// <see cref="Exception.HResult"/> for the <see cref="IOException"/>s it has no subclass for.
/// </summary>
public static class FileErrors
{
    /// <summary>True for the exceptions a file operation throws when the file system refuses.</summary>
    public static bool IsFileError(Exception e) =>
        e is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException;

    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file or folder",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        IOException io => io.HResult switch
        {
            5 => "input/output error",
            17 => "it already exists",
            20 => "a part of the path is a file, not a folder",
            21 => "it is a folder",
            24 => "too many open files",
            27 => "the file is too large",
            28 => "no space left on device",
            30 => "read-only file system",
            122 => "disk quota exceeded",
            _ => Trim(io.Message),
        },
        _ => Trim(e.Message),
    };

    private static string Trim(string message) => message.TrimEnd('.', ' ');
}
