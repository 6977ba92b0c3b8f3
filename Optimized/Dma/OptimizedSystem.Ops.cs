using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma.Kernels;

namespace DmaVerify.Optimized.Dma;

/// <summary>
/// The DMA paths as small ops tables, the way Linux hangs a <c>dma_map_ops</c> off each device:
/// one table per path, chosen once when the device's domain changes (probe, attach,
/// set-domain-type) and kept on the device, so a map, an sg map or a device access calls its
/// path directly instead of re-deciding it. Tables hold no state (a snapshot copies devices
/// with their table), and each decides from its own structures: dma-direct from the platform's
/// RAM and the swiotlb slots, iommu-dma from its domain's allocator and page table, the GART
/// from its aperture, the TCE path from its window and the device's DDW.
/// </summary>
public sealed partial class OptimizedSystem
{
    private abstract class DmaOps
    {
        /// <summary>What the path is, for the IOMMU-API level decisions (MSI doorbells).</summary>
        public abstract Route Kind { get; }

        /// <summary>One buffer (map, alloc_coherent, map_resource, or one sg entry).</summary>
        public abstract Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part);

        /// <summary>dma_map_sg; by default entry by entry.</summary>
        public virtual Outcome MapSg(OptimizedSystem s, Dev device, Dom? domain, MapSg op, Prot prot) =>
            s.MapSgPerEntry(device, this, domain, op, prot);

        /// <summary>Where a device access at <paramref name="addr"/> lands.</summary>
        public abstract Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills);
    }

    /// <summary>dma-direct, with swiotlb bouncing for buffers the device cannot reach.</summary>
    private sealed class DirectOps : DmaOps
    {
        public static readonly DirectOps Instance = new();
        public override Route Kind => Route.Direct;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part) =>
            s.MapDirect(device, req, DmaWindow.MinNotZero(req.Mask, device.BusDmaLimit), out part);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills) =>
            s.PhysicalTarget(addr, remaining);
    }

    /// <summary>Virtio without ACCESS_PLATFORM: physical addresses, no bouncing.</summary>
    private sealed class VirtioBypassOps : DmaOps
    {
        public static readonly VirtioBypassOps Instance = new();
        public override Route Kind => Route.VirtioBypass;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part)
        {
            part = null!;
            if (s.OverlapsRemappingAperture(req.Phys, req.Length) is AddrRange aperture)
                return Fail(DmaErrorKind.VirtioBypass, $"buffer lies in the remapping aperture {aperture}");
            if (!DmaWindow.IsCapable(req.Phys, req.Length, req.Mask, device.BusDmaLimit))
                return Fail(DmaErrorKind.NotCapable, $"buffer beyond the DMA limit {Hex.Format(DmaWindow.MinNotZero(req.Mask, device.BusDmaLimit))}");
            part = Bypass(req.Phys, req.Length, req.Phys);
            return Done.Instance;
        }
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills) =>
            s.PhysicalTarget(addr, remaining);
    }

    /// <summary>A blocked domain: every DMA API call and every access fails.</summary>
    private sealed class BlockedOps : DmaOps
    {
        public static readonly BlockedOps Instance = new();
        public override Route Kind => Route.Blocked;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part)
        {
            part = null!;
            return Fail(DmaErrorKind.DomainBlocked, $"device {device.Id} is in blocked domain {domain!.Id}");
        }
        public override Outcome MapSg(OptimizedSystem s, Dev device, Dom? domain, MapSg op, Prot prot) => Map(s, device, domain, default, out _);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills) =>
            Fault(DmaErrorKind.Fault, $"device {device.Id} is in a blocked domain");
    }

    /// <summary>An unmanaged (iommu_map) domain: the DMA API is refused; accesses walk the table.</summary>
    private sealed class UnmanagedOps : DmaOps
    {
        public static readonly UnmanagedOps Instance = new();
        public override Route Kind => Route.Unmanaged;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part)
        {
            part = null!;
            return Fail(DmaErrorKind.WrongDomainType, $"device {device.Id} is in unmanaged domain {domain!.Id}");
        }
        public override Outcome MapSg(OptimizedSystem s, Dev device, Dom? domain, MapSg op, Prot prot) => Map(s, device, domain, default, out _);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills) =>
            s.TranslatePaging(device, domain!, addr, write, fills);
    }

    /// <summary>iommu-dma over a paging domain, strict or with a flush queue (the domain's type
    /// says which at unmap time); merged sg for trusted devices.</summary>
    private sealed class IommuDmaOps : DmaOps
    {
        public static readonly IommuDmaOps Instance = new();
        public override Route Kind => Route.Iommu;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part) =>
            s.MapIommu(device, domain!, req, out part);
        public override Outcome MapSg(OptimizedSystem s, Dev device, Dom? domain, MapSg op, Prot prot) =>
            device.Config.Untrusted ? base.MapSg(s, device, domain, op, prot) : s.MapSgMerged(device, domain!, op, prot);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills) =>
            s.TranslatePaging(device, domain!, addr, write, fills);
    }

    /// <summary>The K8 GART: direct below the aperture when capable, remapped through it otherwise.</summary>
    private sealed class GartOps : DmaOps
    {
        public static readonly GartOps Instance = new();
        public override Route Kind => Route.Gart;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part) =>
            s.MapGart(device, domain!, req, DmaWindow.MinNotZero(req.Mask, device.BusDmaLimit), out part);
        public override Outcome MapSg(OptimizedSystem s, Dev device, Dom? domain, MapSg op, Prot prot) => s.MapSgGart(device, domain!, op);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills)
        {
            if (domain!.Aperture.Contains(addr))
            {
                if (domain.Table.Translate(addr) is not { } t) return Fault(DmaErrorKind.Fault, $"GART aperture page {Hex.Format(addr)} is not mapped");
                return new Step(t.Pa, t.LeafIova + t.LeafSize - addr, null);
            }
            var outside = s.PhysicalTarget(addr, remaining);
            if (outside.Error is null && addr < domain.Aperture.Start)
                outside = outside with { Length = Math.Min(outside.Length, domain.Aperture.Start - addr) };
            return outside;
        }
    }

    /// <summary>PowerPC TCE: the direct DDW window when the device has one, else the TCE table.</summary>
    private sealed class TceOps : DmaOps
    {
        public static readonly TceOps Instance = new();
        public override Route Kind => Route.Tce;
        public override Outcome Map(OptimizedSystem s, Dev device, Dom? domain, in Piece req, out MappingPart part) =>
            s.MapTce(device, domain!, req, out part);
        public override Step Translate(OptimizedSystem s, Dev device, Dom? domain, ulong addr, ulong remaining, bool write, List<IotlbEntry> fills)
        {
            var tce = s.IommuById(domain!.Iommu)!.Tce!;
            if (device.DdwActive && addr >= tce.DdwOffset && addr <= device.BusDmaLimit)
            {
                var direct = s.PhysicalTarget(addr - tce.DdwOffset, remaining, ramOnly: true);
                return direct.Error is null ? direct with { Length = Math.Min(direct.Length, device.BusDmaLimit - addr + 1) } : direct;
            }
            if (!domain.Aperture.Contains(addr)) return Fault(DmaErrorKind.Fault, $"{Hex.Format(addr)} is in no DMA window");
            return s.WalkTable(domain, addr, write, null, fills);
        }
    }

    /// <summary>The table for a device in <paramref name="domain"/>; called whenever the device's
    /// domain (or that domain's type) changes.</summary>
    private DmaOps OpsFor(Dev device, Dom? domain) =>
        (device.Config.BypassesIommu, IommuOf(device.Config)?.Kind, domain?.Type) switch
        {
            (true, _, _) => VirtioBypassOps.Instance,
            (_, null, _) or (_, _, null) => DirectOps.Instance,
            (_, IommuKind.Gart, _) => GartOps.Instance,
            (_, IommuKind.Tce, _) => TceOps.Instance,
            (_, _, DomainType.Blocked) => BlockedOps.Instance,
            (_, _, DomainType.Identity) => DirectOps.Instance,
            (_, _, DomainType.Unmanaged) => UnmanagedOps.Instance,
            _ => IommuDmaOps.Instance,
        };
}
