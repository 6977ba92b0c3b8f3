using DmaVerify.Cli.Composition;
using DmaVerify.Conformance;

namespace DmaVerify.Cli.Verbs;

/// <summary>
/// `verify replay CASE.iova --allocator PATH` (or `--impl optimized|linuxstyle` for the shipped
/// allocators): runs a conformance case — the allocator calls a finding was shrunk to — on a
/// fresh allocator, printing every call with what it returned and, if a property breaks, which
/// and why. Exit 0 when it holds, 1 on a finding (crashes and hangs included), 2 for bad input.
/// </summary>
internal static class AllocatorCaseReplay
{
    /// <summary>An allocator case: a .iova file, or a file whose first line is <c>space …</c>.</summary>
    public static bool IsCase(string path)
    {
        if (path.EndsWith(AllocatorCase.Extension, StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length < 1 << 20 && AllocatorCase.LooksLike(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    public static int Run(string path, string? implementation, PluggedImplementation? plugged, TextWriter output, TextWriter error)
    {
        AllocatorSubject? subject = plugged?.Subject;
        if (subject is null)
        {
            string name = implementation ?? "";
            subject = Implementations.Allocators.FirstOrDefault(a => a.Name == name);
            if (subject is null)
            {
                error.WriteLine($"verify replay: {path} is an allocator case: name the allocator with --allocator PATH.so|PATH.dll:Namespace.Type " +
                                $"or --impl {string.Join("|", Implementations.Allocators.Select(a => a.Name))}");
                return ExitCodes.BadInput;
            }
        }
        string content;
        try { content = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{path}: error: cannot read: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (!AllocatorCase.TryParse(content, path, out var c, out var problems))
        {
            foreach (var problem in problems) error.WriteLine(problem);
            return ExitCodes.BadInput;
        }

        output.WriteLine($"replay {path}: allocator case on {subject.Name}, space start_pfn=0x{c.StartPfn:x} granule_shift={c.GranuleShift}, " +
                         $"{ReplayVerb.Plural(c.Calls.Count, "call")}");
        var run = AllocatorConformance.Replay(subject, c);
        foreach (var step in run.Executed) output.WriteLine(step);
        if (run.Finding is not { } finding)
        {
            int skipped = c.Calls.Count - run.Executed.Count;
            output.WriteLine($"result: PASSED ({ReplayVerb.Plural(run.Executed.Count, "call")} run" +
                             (skipped > 0 ? $", {skipped} skipped (their preconditions did not hold)" : "") +
                             (run.Known.Count > 0 ? $", {ReplayVerb.Plural(run.Known.Count, "known deviation")}" : "") + ")");
            return ExitCodes.Ok;
        }
        output.WriteLine($"{subject.Name} breaks {finding.What} at step {finding.Step}: {finding.Call}");
        output.WriteLine($"  {finding.Message}");
        output.WriteLine($"result: FAILED ({finding.Rule} at step {finding.Step} of {run.Executed.Count})");
        return ExitCodes.Failed;
    }
}
