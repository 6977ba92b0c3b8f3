using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Targets;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>The deep bug of the "coverage guidance pays" test.</summary>
public sealed class PlantedChainBug() : Exception("planted bug behind five exact conditions reached");

/// <summary>
/// A test-only target with a bug behind a chain of five exact one-byte conditions on the first
/// five op records (2^-40 for a blind guess). Each condition that holds reports an edge through
/// the coverage probe, by hand, exactly as instrumented code would, so a coverage-guided engine
/// can climb the chain one condition at a time.
/// </summary>
public sealed class PlantedChainTarget : IFuzzTarget
{
    public static readonly (int Field, byte Value)[] Chain =
    [
        (FuzzEncoding.FieldExtra, 0x5A), (FuzzEncoding.FieldExtra, 0xA5), (FuzzEncoding.FieldIndex, 0x3C),
        (FuzzEncoding.FieldCount, 0xC3), (FuzzEncoding.FieldAnchor, 0x99),
    ];

    public string Name => "planted-chain";

    public void Run(ReadOnlySpan<byte> data)
    {
        OutcomeFeatures.Hit(0x1111);
        // Decode like a real target does (the cost of a realistic execution) ...
        var ops = OpDecoder.Decode(data, Presets.Direct, FuzzTargets.MixedPresets).Ops;
        // ... then the chain, one probe per condition that holds.
        for (int level = 0; level < Chain.Length; level++)
        {
            if (ops.Count <= level) return;
            var (field, value) = Chain[level];
            if (FuzzEncoding.ByteAt(data, FuzzEncoding.RecordOffset(level) + field) != value) return;
            OutcomeFeatures.Hit(0x2000 + level * 0x111);
        }
        throw new PlantedChainBug();
    }
}

/// <summary>OptimizedSystem with a planted bug: a 0x3000-byte single map is answered with an
/// address one page off. Only reachable through an op list that maps exactly that length.</summary>
public sealed class OffByAPageSystem(PlatformConfig platform) : ISystemUnderTest
{
    private readonly OptimizedSystem _inner = new(platform);
    public string Name => "off-by-a-page";

    public Outcome Apply(Op op)
    {
        var outcome = _inner.Apply(op);
        return op is Map { Length: 0x3000 } && outcome is Mapped m ? m with { Dma = new DmaAddr(m.Dma.Value + 0x1000) } : outcome;
    }

    public SystemState ExportState() => _inner.ExportState();
    public void FailNthAllocation(int n) => _inner.FailNthTablePage(n);
    public long AllocationAttempts => _inner.TablePageAttempts;
    public SystemSnapshot Snapshot() => _inner.Snapshot();
    public void Restore(SystemSnapshot snapshot) => _inner.Restore(snapshot);
}
