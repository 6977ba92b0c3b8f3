using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-06: translation is exact. For a translated part, walking its bus range leaf by leaf,
    /// every leaf sends dma + i to phys + i and grants exactly the read/write permission of the
    /// mapping's direction (as the format encodes it: see ExpectedLeafAccess); a hole is a violation. For a bypass part, dma == phys; a device
    /// behind a TCE unit (that does not bypass the IOMMU itself) can only bypass through the
    /// dynamic DMA window, so there dma == phys + DdwOffset.
    /// </summary>
    private static void CheckTranslation(CheckContext c, List<Violation> output)
    {
        foreach (var m in c.Mappings)
        {
            var config = c.Config(m.Device);
            var tce = config is { BypassesIommu: false } ? c.Iommu(config.Iommu)?.Tce : null;
            foreach (var part in c.PartsOf(m))
            {
                if (!CheckContext.TryRange(part.Dma, part.Length, out var range))
                    continue; // INV-05 reports it
                if (part.Length - 1 > ulong.MaxValue - part.Phys)
                {
                    output.Add(new Violation(Inv06, m.Device, range,
                        $"mapping {m.Id}: part {range} names physical bytes {Hex.Format(part.Phys)}+{Hex.Format(part.Length)} that wrap past 2^64"));
                    continue;
                }
                if (part.IsBypass)
                    CheckBypassTranslation(m, part, range, tce, output);
                else if (c.Domain(part.Domain) is { } domain)
                    CheckLeafTranslation(c, m, part, range, domain, ExpectedLeafAccess(m, domain.Format.Format), output);
                // a part naming a missing domain is reported by INV-07
            }
        }
    }

    private static void CheckBypassTranslation(DmaMapping m, MappingPart part, AddrRange range, TceConfig? tce, List<Violation> output)
    {
        if (tce is null)
        {
            if (part.Dma != part.Phys)
                output.Add(new Violation(Inv06, m.Device, range,
                    $"mapping {m.Id}: bypass part {range} must reach phys {Hex.Format(part.Dma)} (dma == phys), not {Hex.Format(part.Phys)}"));
            return;
        }
        bool ok = part.Phys <= ulong.MaxValue - tce.DdwOffset && part.Dma == part.Phys + tce.DdwOffset;
        if (!ok)
            output.Add(new Violation(Inv06, m.Device, range,
                $"mapping {m.Id}: a TCE device bypasses only through the dynamic DMA window, so bypass part {range} must be phys + {Hex.Format(tce.DdwOffset)}, but phys is {Hex.Format(part.Phys)}"));
    }

    private static void CheckLeafTranslation(CheckContext c, DmaMapping m, MappingPart part, AddrRange range,
        DomainState domain, Prot expected, List<Violation> output)
    {
        if (!domain.IsPaging)
        {
            output.Add(new Violation(Inv06, m.Device, range,
                $"mapping {m.Id}: part {range} is said to be translated by domain {domain.Id}, a {domain.Type} domain without a page table"));
            return;
        }
        AddrRange? hole = null, wrong = null, perm = null;
        Leaf? wrongLeaf = null, permLeaf = null;
        foreach (var (piece, leaf) in c.LeavesOf(domain).Walk(range))
        {
            if (leaf is null) hole ??= piece;
            else if (!LeafIndex.SameTranslation(leaf, part.Dma, part.Phys)) { if (wrong is null) { wrong = piece; wrongLeaf = leaf; } }
            else if ((leaf.Prot & ReadWrite) != expected && perm is null) { perm = piece; permLeaf = leaf; }
        }
        if (hole is AddrRange h)
            output.Add(new Violation(Inv06, m.Device, h,
                $"mapping {m.Id}: bytes {h} of part {range} (to phys {Hex.Format(part.Phys)}) have no leaf in domain {domain.Id}"));
        if (wrong is AddrRange w)
            output.Add(new Violation(Inv06, m.Device, w,
                $"mapping {m.Id}: bytes {w} of part {range} should reach phys {Hex.Format(unchecked(part.Phys + (w.Start - part.Dma)))} but leaf {wrongLeaf} sends them elsewhere"));
        if (perm is AddrRange p)
            output.Add(new Violation(Inv06, m.Device, p,
                $"mapping {m.Id}: a {m.Kind} {m.Direction} mapping needs permission {expected}, but leaf {permLeaf} grants {permLeaf!.Prot & ReadWrite}"));
    }
}
