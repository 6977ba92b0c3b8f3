using DmaVerify.Fuzz.Mutation;

namespace DmaVerify.Fuzz.Engine;

/// <summary>libFuzzer's status-line shape (FuzzerLoop.cpp PrintStats): 
/// <c>#runs EVENT cov: N ft: N corp: units/size lim: N exec/s: N rss: NMb</c>.</summary>
public static class StatusFormat
{
    public static string Line(long runs, string @event, int cov, int ft, int units, long corpusBytes, int maxLen, long execPerSec, long rssMb) =>
        $"#{runs}\t{@event} cov: {cov} ft: {ft} corp: {units}/{Size(corpusBytes)} lim: {maxLen} exec/s: {execPerSec} rss: {rssMb}Mb";

    /// <summary>Corpus size: bytes under 16 KiB, KB under 16 MiB, else MB (as libFuzzer's code prints them).</summary>
    public static string Size(long bytes) =>
        bytes < 16 << 10 ? $"{bytes}b" : bytes < 16 << 20 ? $"{bytes >> 10}Kb" : $"{bytes >> 20}Mb";

    /// <summary>The " L: len/max MS: n A-B-" suffix of NEW lines.</summary>
    public static string NewSuffix(int length, int maxLen, IReadOnlyList<MutationKind> mutations) =>
        $" L: {length}/{maxLen} MS: {mutations.Count} {string.Concat(mutations.Select(m => m + "-"))}";

    public static long RssMb() => Environment.WorkingSet >> 20;
}
