using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>Runs the implementation and the model on the same ops: each outcome the
/// implementation gives must be one the model accepts (the model then adopts its choices).</summary>
internal sealed class SideBySide
{
    public ModelSystem Model { get; }
    public OptimizedSystem Impl { get; }
    public string Name { get; }
    private readonly List<string> _history = [];

    public SideBySide(string name, PlatformConfig platform, ModelOptions? options = null)
    {
        Name = name;
        Model = new ModelSystem(platform, options);
        Impl = new OptimizedSystem(platform);
    }

    public IReadOnlyList<string> History => _history;

    public Outcome Step(Op op)
    {
        var outcome = Impl.Apply(op);
        _history.Add($"{ScenarioPrinter.FormatOp(op)}  # -> {ScenarioPrinter.FormatOutcome(outcome)}");
        var result = Model.Check(op, outcome);
        Assert.True(result.Agrees, $"{Name} step {_history.Count - 1}: {result.Divergence}\nops:\n{string.Join("\n", _history)}");
        return outcome;
    }

    public void CheckInvariants()
    {
        var violations = InvariantChecker.Check(Impl.ExportState()).ToList();
        Assert.True(violations.Count == 0, $"{Name} after {_history.Count} ops:\n  {string.Join("\n  ", violations)}\nops:\n{string.Join("\n", _history)}");
    }
}

/// <summary>Adds the IOMMU-API and domain ops (alloc-domain, attach, set-domain-type, set-mask,
/// iommu-map/unmap) to <see cref="RandomOps"/>, which makes everything else.</summary>
internal sealed class DomainOps(PlatformConfig platform, Random random)
{
    private readonly RandomOps _inner = new(platform, random);
    private static readonly DomainType[] AllocTypes = [DomainType.Unmanaged, DomainType.Blocked, DomainType.Identity, DomainType.Dma];
    private static readonly DomainType[] GroupTypes = [DomainType.Identity, DomainType.Dma, DomainType.DmaFq, DomainType.Blocked];

    public Op Next(SystemState state)
    {
        int pick = random.Next(100);
        if (pick >= 16 || platform.Iommus.Count == 0) return _inner.Next(state);
        var device = platform.Devices[random.Next(platform.Devices.Count)];
        var iommu = platform.Iommus[random.Next(platform.Iommus.Count)];
        var domains = state.Domains;
        var domain = domains.Count > 0 ? domains[random.Next(domains.Count)] : null;
        var unmanaged = domains.Where(d => d.Type == DomainType.Unmanaged).ToList();
        ulong granule = domain?.Granule ?? 0x1000;
        switch (pick)
        {
            case < 2: return new AllocDomain(iommu.Id, AllocTypes[random.Next(AllocTypes.Length)]);
            case < 4: return new Attach(device.Id, domain?.Id ?? 0);
            case < 6: return new SetDomainType(device.Id, GroupTypes[random.Next(GroupTypes.Length)]);
            case < 8:
                ulong[] masks = [ulong.MaxValue, 0xFFFF_FFFF, (1UL << 40) - 1, 0xFF_FFFF, 0x1234];
                var mask = masks[random.Next(masks.Length)];
                return new SetMask(device.Id, mask, random.Next(2) == 0 ? mask : 0xFFFF_FFFF);
            case < 13 when unmanaged.Count > 0:
            {
                var target = unmanaged[random.Next(unmanaged.Count)];
                ulong g = target.Granule;
                ulong iova = random.Next(3) == 0 ? 0x0800_0000UL + (ulong)random.Next(0, 4) * g : (ulong)random.Next(1, 0x400) * g;
                var ram = platform.Ram[random.Next(platform.Ram.Count)];
                ulong phys = IovaSpace.AlignDown(ram.Start + (ulong)random.NextInt64(0, 0x100_0000), g);
                ulong size = (ulong)random.Next(1, 5) * g * (random.Next(8) == 0 ? 512UL : 1UL);
                if (random.Next(10) == 0) iova += 0x800; // unaligned now and then
                var prots = new[] { Prot.Read, Prot.Write, Prot.Read | Prot.Write, Prot.None };
                return new IommuMap(target.Id, new Iova(iova), new PhysAddr(phys), size, prots[random.Next(prots.Length)]);
            }
            case < 16 when unmanaged.Count > 0:
            {
                var target = unmanaged[random.Next(unmanaged.Count)];
                var leaf = target.Leaves.Count > 0 ? target.Leaves.Values[random.Next(target.Leaves.Count)] : null;
                ulong iova = leaf?.Iova ?? target.Granule;
                return new IommuUnmap(target.Id, new Iova(iova), (ulong)random.Next(1, 4) * target.Granule);
            }
            default:
                _ = granule;
                return _inner.Next(state);
        }
    }
}
