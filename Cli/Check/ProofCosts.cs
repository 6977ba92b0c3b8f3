using System.Globalization;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Check;

/// <summary>
/// What each proof obligation costs in seconds: the time it took in the last `verify check` that
/// proved it (kept in a small file beside the check's artifacts), else a static estimate
/// measured with `verify prove` on a 2-core machine (see docs/proofs.md). `--quick` runs
/// the obligations under <see cref="QuickLimitSeconds"/>, cheapest first, and skips the rest.
/// An obligation with neither (a new one) counts as cheap: it runs, and is measured.
/// </summary>
internal sealed class ProofCosts
{
    /// <summary>The --quick cut: obligations that take less than this run.</summary>
    public const double QuickLimitSeconds = 2.0;

    public const string FileName = "proof-costs.tsv";

    /// <summary>Seconds per obligation as docs/proofs.md measured them (`verify prove --smt2 smt2`,
    /// 2 cores at a load average of 23, so on the high side: an estimate sorts an obligation
    /// among the expensive ones rather than overrun --quick).</summary>
    internal static readonly IReadOnlyDictionary<string, double> Estimates = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["PO-01"] = 0.47,
        ["PO-02"] = 0.04,
        ["PO-03"] = 1.30,
        ["PO-04"] = 0.03,
        ["PO-05"] = 0.24,
        ["PO-06"] = 0.15,
        ["PO-07"] = 0.19,
        ["PO-08"] = 0.04,
        ["PO-09"] = 0.22,
        ["PO-10"] = 0.10,
        ["PO-11"] = 0.05,
        ["PO-12"] = 0.43,
        ["PO-13"] = 1.92,
        ["PO-20"] = 2.34,
        ["PO-30"] = 2.80,
        ["PO-31"] = 4.62,
        ["PO-32"] = 40.71,
        ["PO-34"] = 0.60,
        ["PO-37"] = 3.97,
        ["PO-35"] = 21.76,
        ["PO-36"] = 0.31,
        ["PO-40"] = 1.46,
        ["PO-41"] = 0.34,
        ["PO-42"] = 1.00,
        ["PO-43"] = 22.35,
        ["PO-50"] = 4.64,
        ["PO-51"] = 5.55,
        ["PO-52"] = 2.79,
    };

    private readonly string? _path;
    private readonly Dictionary<string, double> _measured;

    private ProofCosts(string? path, Dictionary<string, double> measured)
    {
        _path = path;
        _measured = measured;
    }

    /// <summary>The costs recorded in <paramref name="path"/> (none when it is missing or unreadable:
    /// the estimates stand in; a cost file is a cache, never a reason to fail).</summary>
    public static ProofCosts Load(string? path)
    {
        var measured = new Dictionary<string, double>(StringComparer.Ordinal);
        if (path is not null)
        {
            try
            {
                foreach (string line in File.ReadAllLines(path))
                {
                    var parts = line.Split('\t');
                    if (parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s >= 0)
                        measured[parts[0]] = s;
                }
            }
            catch (Exception e) when (FileErrors.IsFileError(e)) { }
        }
        return new ProofCosts(path, measured);
    }

    /// <summary>The cost of <paramref name="id"/> and where it comes from ("last run", "estimate"),
    /// or null when nothing is known.</summary>
    public (double Seconds, string Source)? CostOf(string id) =>
        _measured.TryGetValue(id, out double s) ? (s, "last run")
        : Estimates.TryGetValue(id, out double e) ? (e, "estimate")
        : null;

    public bool IsCheap(string id) => CostOf(id) is not { } cost || cost.Seconds < QuickLimitSeconds;

    /// <summary>Remembers what <paramref name="id"/> took now, in the file (written whole through
    /// a temporary, so a reader never sees half of it; a failed write is ignored).</summary>
    public void Record(string id, double seconds)
    {
        lock (_measured)
        {
            _measured[id] = seconds;
            if (_path is null) return;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
                var lines = _measured.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => $"{kv.Key}\t{kv.Value.ToString("0.###", CultureInfo.InvariantCulture)}");
                AtomicFile.Write(_path, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
            }
            catch (Exception e) when (FileErrors.IsFileError(e)) { }
        }
    }
}
