using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// A superpage on an unaligned address: the page-size choice checks only the IOVA's alignment,
/// so a 2 MiB leaf is written for a buffer whose physical address is not 2 MiB aligned; the
/// leaf holds the rounded-down address and the device reaches the wrong bytes. (The decorator
/// rewrites the exported leaves and the device's view of that 2 MiB.)
/// </summary>
public sealed class SuperpageOnUnalignedPhys(ISystemUnderTest inner) : Decorator(inner, "superpage-on-unaligned-phys"), IHiddenStateFingerprint
{
    private const ulong Superpage = 0x20_0000;
    /// <summary>IOVA of the bad leaf → (domain, phys the leaf holds).</summary>
    private readonly Dictionary<ulong, (int Domain, ulong Phys)> _bad = [];

    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new SuperpageOnUnalignedPhys(factory(platform));

    public override SystemSnapshot Snapshot() =>
        new DecoratorSnapshot<KeyValuePair<ulong, (int, ulong)>[]>(Inner.Snapshot(), [.. _bad]);

    public override void Restore(SystemSnapshot snapshot)
    {
        var saved = DecoratorSnapshot<KeyValuePair<ulong, (int, ulong)>[]>.Of(snapshot, Name);
        Inner.Restore(saved.Inner);
        _bad.Clear();
        foreach (var (iova, bad) in saved.State) _bad[iova] = bad;
    }

    public ulong HiddenStateFingerprint() => HiddenState.Of(_bad.Select(b => new KeyValuePair<(int, ulong), ulong>((b.Value.Domain, b.Key), b.Value.Phys)));

    public override Outcome Apply(Op op)
    {
        var outcome = Inner.Apply(op);
        if (op is Map map && outcome is Mapped { Bounce: null } mapped && map.Length >= Superpage
            && mapped.Dma.Value % Superpage == 0 && map.Phys.Value % Superpage != 0)
        {
            var mapping = Inner.ExportState().MappingsOf(map.Device).FirstOrDefault(m => m.Dma == mapped.Dma);
            if (mapping?.Parts.FirstOrDefault() is { Domain: int domain } part && part.Length >= Superpage)
                _bad[mapped.Dma.Value] = (domain, map.Phys.Value & ~(Superpage - 1));
        }
        if (outcome is Accessed accessed && _bad.Count > 0)
            return accessed with { Chunks = accessed.Chunks.Select(Misroute).ToValueList() };
        if (!outcome.IsSuccess || op is not (Unmap or UnmapSg or FreeCoherent or UnmapResource)) return outcome;
        var live = Inner.ExportState().Mappings.Select(m => m.Dma.Value).ToHashSet();
        foreach (var iova in _bad.Keys.Where(k => !live.Contains(k)).ToList()) _bad.Remove(iova);
        return outcome;
    }

    private AccessChunk Misroute(AccessChunk chunk)
    {
        foreach (var (iova, (_, phys)) in _bad)
            if (chunk.Dma >= iova && chunk.Dma < iova + Superpage)
                return chunk with { Phys = new PhysAddr(phys + (chunk.Dma - iova)) };
        return chunk;
    }

    public override SystemState ExportState()
    {
        var state = Inner.ExportState();
        foreach (var (iova, (domainId, phys)) in _bad)
        {
            if (state.Domain(domainId) is not { } domain) continue;
            var covered = domain.Leaves.Values.Where(l => l.Iova >= iova && l.Iova < iova + Superpage).ToList();
            if (covered.Count == 0) continue;
            foreach (var leaf in covered) domain.Leaves.Remove(leaf.Iova);
            domain.Leaves[iova] = new Leaf(iova, phys, Superpage, covered[0].Prot);
        }
        return state;
    }
}
