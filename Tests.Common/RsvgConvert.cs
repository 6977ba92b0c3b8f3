using System.Diagnostics;

namespace DmaVerify.Tests.Common;

/// <summary>librsvg's command-line renderer (Debian: librsvg2-bin), a real SVG renderer the
/// pictures are checked with. <c>.ci/run</c> installs it.</summary>
public static class RsvgConvert
{
    public const string Tool = "rsvg-convert";

    public static readonly string? Path = Find();

    public static string MissingMessage => $"{Tool} not found on PATH; install Debian's librsvg2-bin (apt-get install -y librsvg2-bin; .ci/run does)";

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(dir, Tool);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Renders an SVG file to a PNG file; throws with rsvg-convert's message when it fails.</summary>
    public static void ToPng(string svgFile, string pngFile)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException(MissingMessage))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--format", "png", "--output", pngFile, svgFile })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException($"{Tool} did not finish within 60 s on {svgFile}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Tool} failed on {svgFile} (exit {process.ExitCode}): {stderr.Result}");
    }
}

/// <summary>A fact that needs rsvg-convert: skipped, with the reason and the fix, when it is missing.</summary>
public sealed class RsvgFactAttribute : FactAttribute
{
    public RsvgFactAttribute()
    {
        if (RsvgConvert.Path is null) Skip = RsvgConvert.MissingMessage;
    }
}
