using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>Fail-nth on page-table page allocations: for every n up to the number of table
/// pages a scenario allocates, the op that meets the failure answers OutOfMemory and changes
/// nothing (INV-15); the model (AllowResourceFailures) agrees, and the run goes on.</summary>
public class FaultInjectionTests
{
    /// <summary>Radix formats only: the GART and TCE tables are flat, allocated whole at probe.</summary>
    public static TheoryData<string> Presets_() => new() { "x86-vtd", "amd-vi", "arm-smmu", "arm-smmu-16k", "arm-smmu-64k", "soc-vcm", "virtio@x86-vtd" };

    /// <summary>Maps, sg maps, coherent buffers, MSI pages and unmaps that free tables again.</summary>
    private static List<Op> Scenario(PlatformConfig platform)
    {
        var ram = platform.Ram[^1];
        var ram0 = platform.Ram[0];
        int dev = platform.Devices[0].Id;
        ulong lo = ram0.Start + 0x20_0000, hi = ram.Last - 0x40_0000 & ~0xFFFUL;
        var ops = new List<Op>
        {
            new Map(dev, new PhysAddr(lo + 0x123), 0x3000, DmaDirection.ToDevice),
            new MapSg(dev, new[] { new SgEntry(new PhysAddr(hi), 0x2000), new SgEntry(new PhysAddr(lo + 0x10_0000), 0x800), new SgEntry(new PhysAddr(hi + 0x8000), 0x1000) }.ToValueList(), DmaDirection.Bidirectional),
            new AllocCoherent(dev, new PhysAddr(lo + 0x30_0000 & ~0xFFFUL), 0x4000),
            new Map(dev, new PhysAddr(hi + 0x1_0000), 0x20_0000, DmaDirection.FromDevice),
            new Unmap(dev, new LiveRef(0), 0x3000, DmaDirection.ToDevice),
            new MapSg(dev, new[] { new SgEntry(new PhysAddr(lo + 0x1000), 0x1000), new SgEntry(new PhysAddr(lo + 0x2000), 0x1000) }.ToValueList(), DmaDirection.ToDevice),
            new Map(dev, new PhysAddr(lo + 0x40_0000), 0x1000, DmaDirection.ToDevice),
        };
        if (platform.Mmio.Count > 0) ops.Add(new SetupMsi(dev, new PhysAddr(platform.Mmio[0].Start)));
        ops.Add(new UnmapSg(dev, new LiveRef(0), 3, DmaDirection.Bidirectional));
        ops.Add(new Map(dev, new PhysAddr(hi + 0x30_0000), 0x2000, DmaDirection.ToDevice));
        if (platform.Iommus.Any(i => i.Kind.HasPagingDomains))
        {
            int iommu = platform.Iommus[0].Id;
            ops.Add(new AllocDomain(iommu, DomainType.Unmanaged));
        }
        return ops;
    }

    [Theory]
    [MemberData(nameof(Presets_))]
    public void EveryTablePageFailureUnrollsItsOp(string preset)
    {
        var platform = Presets.Get(preset);
        var ops = Scenario(platform);
        var clean = new OptimizedSystem(platform);
        long start = clean.TablePageAttempts;
        foreach (var op in ops) clean.Apply(op);
        long total = clean.TablePageAttempts - start;
        Assert.True(total >= 3, $"{preset}: the scenario allocates only {total} table pages");
        int failures = 0;
        for (int n = 1; n <= total; n++)
        {
            var run = new SideBySide($"{preset} fail-nth {n}", platform, new ModelOptions { AllowResourceFailures = true });
            run.Impl.FailNthTablePage(n);
            bool failedOnce = false;
            foreach (var op in ops)
            {
                var before = run.Impl.ExportState();
                var outcome = run.Step(op);
                var after = run.Impl.ExportState();
                if (outcome is Failed { Kind: DmaErrorKind.OutOfMemory })
                {
                    failedOnce = true;
                    failures++;
                    var diff = StateDiff.Differences(before, after);
                    Assert.True(diff.Count == 0, $"{preset} fail-nth {n}: {ScenarioPrinter.FormatOp(op)} failed but changed:\n  {string.Join("\n  ", diff)}");
                }
                var violations = InvariantChecker.CheckStep(before, op, outcome, after).Concat(InvariantChecker.Check(after)).ToList();
                Assert.True(violations.Count == 0, $"{preset} fail-nth {n}: {ScenarioPrinter.FormatOp(op)}:\n  {string.Join("\n  ", violations)}");
            }
            Assert.True(failedOnce, $"{preset}: the {n}-th table page allocation failed no op");
        }
        Assert.Equal(total, failures);
    }
}
