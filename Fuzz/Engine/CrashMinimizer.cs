using System.Diagnostics;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// -minimize_crash=1 CRASH_FILE: shrinks a crashing input while it still fails the same way
/// (<see cref="CrashSignature"/>). First whole op records are dropped (one at a time, from the
/// end: later ops are the likelier bystanders), then single fields are zeroed, then random
/// mutations with a length limit one below the current size run until the budget
/// (-runs / -max_total_time, default 60 s) is spent. Writes minimized-from-SHA1.
/// </summary>
public static class CrashMinimizer
{
    public static int Run(IFuzzTarget target, string crashFile, FuzzOptions options, FuzzDictionary dictionary, TextWriter log)
    {
        byte[] data;
        try { data = File.ReadAllBytes(crashFile); }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            log.WriteLine($"{crashFile}: error: cannot read: {FileErrors.Describe(e)}");
            return 2;
        }
        string originalSha1 = AtomicFile.Sha1Hex(data);
        using var coverage = new CoverageFeatures();
        var executor = new Executor(target, coverage, watchdog: null, new CurrentInput());
        string? signature = Signature(executor, data);
        if (signature is null)
        {
            log.WriteLine($"CRASH_MIN: {crashFile} does not crash target {target.Name}; nothing to minimise");
            return 2;
        }
        log.WriteLine($"CRASH_MIN: minimizing crash input: '{crashFile}' ({data.Length} bytes, {signature})");
        var clock = Stopwatch.StartNew();
        long runs = 0;
        long budgetRuns = options.Runs >= 0 ? options.Runs : long.MaxValue;
        int budgetSeconds = options.MaxTotalTime > 0 ? options.MaxTotalTime : options.Runs >= 0 ? int.MaxValue : 60;
        bool Spent() => runs >= budgetRuns || clock.Elapsed.TotalSeconds >= budgetSeconds;
        bool Keeps(byte[] candidate)
        {
            runs++;
            return Signature(executor, candidate) == signature;
        }

        // 1. Drop whole records, last first, and truncate a partial tail. Offsets count from the
        //    body: a format-version prefix stays.
        int prefix = FuzzFormat.PrefixLength(data);
        for (int r = FuzzEncoding.RecordCount(data.Length - prefix) - 1; r >= 0 && !Spent(); r--)
        {
            int at = prefix + FuzzEncoding.RecordOffset(r), end = Math.Min(data.Length, at + FuzzEncoding.RecordSize);
            byte[] candidate = [.. data.AsSpan(0, at), .. data.AsSpan(end)];
            if (Keeps(candidate)) data = candidate;
        }
        // 2. Zero single bytes (zero is every field's plainest value).
        for (int i = prefix; i < data.Length && !Spent(); i++)
        {
            if (data[i] == 0) continue;
            byte[] candidate = [.. data];
            candidate[i] = 0;
            if (Keeps(candidate)) data = candidate;
        }
        log.WriteLine($"CRASH_MIN: after dropping ops and zeroing fields: {data.Length} bytes ({runs} runs)");
        // 3. Random mutations below the current size.
        var mutator = new Mutator(new Random((int)(options.Seed == 0 ? 1 : options.Seed)), dictionary);
        var buffer = new byte[Math.Max(data.Length, 1)];
        while (data.Length > 0 && !Spent())
        {
            data.CopyTo(buffer, 0);
            int size = mutator.Mutate(buffer, data.Length, data.Length - 1, data);
            if (size >= data.Length) continue;
            byte[] candidate = buffer.AsSpan(0, size).ToArray();
            if (Keeps(candidate))
            {
                data = candidate;
                log.WriteLine($"CRASH_MIN: smaller crash found: {data.Length} bytes");
            }
        }
        string? path = new ArtifactWriter(options.ArtifactPrefix, null, log).WriteNamed("minimized-from-" + originalSha1, data);
        log.WriteLine($"CRASH_MIN: {data.Length} bytes after {runs} runs; written to {path ?? "nowhere (Base64 above)"}");
        return 0;
    }

    private static string? Signature(Executor executor, byte[] data) =>
        executor.Execute(data) is { } crash ? CrashSignature.Of(crash) : null;
}
