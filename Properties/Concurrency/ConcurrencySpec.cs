using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// The linearizability property: for generated concurrency cases, run each one
/// <see cref="Attempts"/> times on a fresh system (different interleavings), and check every
/// recorded history against the model with <see cref="LinearizabilityChecker"/>, then the final
/// state against the invariants. Shrinking removes calls one at a time while the case still
/// fails within a few more attempts (scheduling is not replayable; the case is).
/// </summary>
public sealed record ConcurrencySpec : INamedRun
{
    public required string Name { get; init; }
    public required string Preset { get; init; }
    public string EngineName => "linearizable";
    public required string ImplementationName { get; init; }
    public required Func<PlatformConfig, ISystemUnderTest> Implementation { get; init; }
    /// <summary>Devices the threads use, thread t taking devices[t mod count].</summary>
    public required IReadOnlyList<int> Devices { get; init; }
    public int DefaultBudget { get; init; } = 40;
    public int Attempts { get; init; } = 3;
    /// <summary>The model's options for this implementation (the oracle of every history).</summary>
    public ModelOptions Model { get; init; } = new();

    public ConcurrencySpec With(string implementationName, Func<PlatformConfig, ISystemUnderTest> implementation) =>
        this with { ImplementationName = implementationName, Implementation = implementation };

    public Finding? Execute(ConcurrencyCase c) => Execute(c, Attempts);

    public Finding? Execute(ConcurrencyCase c, int attempts)
    {
        var platform = Presets.Get(c.Preset);
        var checker = new LinearizabilityChecker(platform, Model);
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            var system = Implementation(platform);
            var history = HistoryRecorder.Record(c, system);
            if (checker.Check(history) is { } finding) return finding;
            var violations = InvariantChecker.Check(system.ExportState());
            if (violations.Count > 0)
                return new Finding(FindingKind.InvariantViolation, c.Count - 1, violations[0].Invariant, string.Join("; ", violations) + "\n" + history.ToText());
        }
        return null;
    }

    public PropertyResult Run(PropertyRunOptions? options = null)
    {
        options ??= new PropertyRunOptions();
        var check = new PropertyCheck<ConcurrencyCase>
        {
            Name = Name,
            Generator = ConcurrencyGen.For(Preset, Devices),
            Execute = Execute,
            Shrink = Shrink,
            Print = c => c.ToText(),
            CountOps = c => c.Count,
        };
        return check.Run(options.ResolveBudget(DefaultBudget), options with { WriteRegression = false });
    }

    private (ConcurrencyCase, Finding, int) Shrink(ConcurrencyCase failing, Finding finding, int maxRuns)
    {
        int runs = 0;
        bool progress = true;
        while (progress && runs < maxRuns)
        {
            progress = false;
            foreach (var candidate in Smaller(failing))
            {
                if (runs++ >= maxRuns) break;
                if (Execute(candidate, Attempts * 4) is { } f && f.Signature == finding.Signature)
                {
                    (failing, finding, progress) = (candidate, f, true);
                    break;
                }
            }
        }
        return (failing, finding, runs);
    }

    private static IEnumerable<ConcurrencyCase> Smaller(ConcurrencyCase c)
    {
        for (int i = 0; i < c.Setup.Count; i++)
            yield return c with { Setup = c.Setup.Where((_, k) => k != i).ToValueList() };
        for (int t = 0; t < c.Threads.Count; t++)
            for (int i = 0; i < c.Threads[t].Count; i++)
                yield return c with
                {
                    Threads = c.Threads.Select((ops, k) => k == t ? ops.Where((_, j) => j != i).ToValueList() : ops)
                        .Where(ops => ops.Count > 0).ToValueList(),
                };
    }
}
