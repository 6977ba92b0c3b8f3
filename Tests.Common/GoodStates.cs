using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Common;

/// <summary>
/// Hand-built states a correct system could be in, one per preset, each exercising the
/// preset's distinctive rules. Every one must pass the whole checker; tests break one thing
/// in a fresh copy and expect exactly the invariant that covers it.
/// </summary>
public static class GoodStates
{
    public const ulong NicSingleIova = 0xFFFF_E000, SataCoherentIova = 0xFFFF_8000, NicSgIova = 0xFFFF_0000;
    public const ulong PendingIova = 0xFFFF_C000;

    /// <summary>x86-vtd: a DMA-FQ domain shared by nic and sata (PCI, RMRR identity-mapped,
    /// MSI window and host windows reserved) with a single map, a coherent buffer, an sg
    /// list, a range waiting in the flush queue with a stale IOTLB entry over it, and an
    /// agreeing IOTLB entry; a strict domain for the untrusted Thunderbolt device with one
    /// bounced sub-granule buffer and one aligned buffer.</summary>
    public static StateBuilder X86Vtd()
    {
        var b = new StateBuilder(Presets.X86Vtd);
        var fq = b.Domain(1, 0, DomainType.DmaFq, 0, 1);
        b.Map(0, fq, NicSingleIova, 0x1_2345_6100, 0x1800, DmaDirection.Bidirectional);
        b.Map(1, fq, SataCoherentIova, 0x2000_0000, 0x4000, DmaDirection.Bidirectional, MappingKind.Coherent);
        b.MapSg(0, fq, NicSgIova, DmaDirection.ToDevice, (0x3000_0000, 0x1000), (0x3000_8000, 0x1000), (0x3001_0100, 0x300));
        fq.Allocations.Add(new IovaAllocation(AddrRange.FromLength(PendingIova, 0x2000), AllocationOwner.FlushQueue));
        fq.FlushQueue.Add(new FlushQueueEntry(AddrRange.FromLength(PendingIova, 0x2000), 5));
        fq.FlushStarted = 5;
        fq.FlushFinished = 5;
        fq.TimerDeadline = 10;
        fq.Iotlb.Add(new IotlbEntry(0, PendingIova, 0x5000_0000, 0x1000, Prot.Read | Prot.Write));
        fq.Iotlb.Add(new IotlbEntry(0, NicSingleIova, 0x1_2345_6000, 0x1000, Prot.Read | Prot.Write));

        var strict = b.Domain(2, 0, DomainType.Dma, 2);
        b.MapBounced(2, strict, 0xFFFF_F000, 0x1_0000_0234, 0x100, 0x7C00_0000);
        b.Map(2, strict, 0xFFFF_C000, 0x1_0000_4000, 0x2000, DmaDirection.FromDevice);
        strict.Iotlb.Add(new IotlbEntry(0, 0xFFFF_C000, 0x1_0000_4000, 0x1000, Prot.Write));
        return b;
    }

    /// <summary>k8-gart: a buffer outside the aperture bypassed 1:1, and one in the RAM the
    /// aperture aliases remapped through the GART.</summary>
    public static StateBuilder K8Gart()
    {
        var b = new StateBuilder(Presets.K8Gart);
        var gart = b.Domain(1, 0, DomainType.Dma, 0, 1, 2);
        b.MapBypass(0, 0x8000_0000, 0x1000);
        b.Map(1, gart, Presets.K8Aperture.Start, 0x4100_0000, 0x2000, DmaDirection.FromDevice);
        return b;
    }

    /// <summary>power-tce: nvme with a direct DDW (RAM below the direct limit bypassed at
    /// phys + offset, pmem above it TCE-mapped); legacy-nic TCE-mapped in the 32-bit window.</summary>
    public static StateBuilder PowerTce()
    {
        var b = new StateBuilder(Presets.PowerTce);
        var tce = b.Domain(1, 0, DomainType.Dma, 0, 1);
        var nvme = b.Device(0);
        nvme.DmaMask = nvme.CoherentMask = ulong.MaxValue;
        nvme.DdwActive = true;
        nvme.BusDmaLimit = Presets.PowerTceWindows.DirectLimit;
        b.MapBypass(0, 0x1_0000_0000, 0x1000, offset: Presets.PowerTceWindows.DdwOffset);
        b.Map(0, tce, 0x1000, 0x40_0000_0000, 0x1000);
        b.Map(1, tce, 0x2000, 0x2000_0000, 0x3000, DmaDirection.ToDevice);
        return b;
    }

    /// <summary>direct: dma = phys for capable buffers; a 32-bit device's high buffer bounced
    /// through swiotlb; a bus-limited device below its limit.</summary>
    public static StateBuilder Direct()
    {
        var b = new StateBuilder(Presets.Direct);
        b.MapBypass(0, 0x1_0000_0000, 0x1000);
        b.MapBypassBounced(1, 0x1_2000_0000, 0x800, 0x7C00_0000);
        b.MapBypass(3, 0x3000_0000, 0x1000, DmaDirection.FromDevice);
        return b;
    }

    /// <summary>virtio@x86-vtd: the legacy (bypassing) virtio device in an identity domain
    /// with a physical-address mapping; the ACCESS_PLATFORM one in a DMA domain.</summary>
    public static StateBuilder Virtio()
    {
        var b = new StateBuilder(Presets.Virtio);
        b.Domain(1, 0, DomainType.Identity, 1);
        b.MapBypass(1, 0x1_0000_0000, 0x1000);
        var dma = b.Domain(2, 0, DomainType.Dma, 0);
        b.Map(0, dma, 0xFFFF_F000, 0x2000_0000, 0x1000);
        return b;
    }

    public const ulong SocDoorbell = 0x1000_0000;

    /// <summary>soc-vcm: one page table shared by display, camera (SMMU 0) and video (SMMU 1)
    /// with IOTLB entries in both SMMUs and a software-MSI page; the GPU's own 64K-granule
    /// DMA-FQ domain; the audio DSP with no IOMMU. Table pages reported and exact.</summary>
    public static StateBuilder SocVcm()
    {
        var b = new StateBuilder(Presets.SocVcm);
        var shared = b.Domain(1, 0, DomainType.Dma, 0, 1, 2);
        b.Map(0, shared, 0xFFFF_F000, 0x4000_0000, 0x1000, DmaDirection.ToDevice);
        b.Map(2, shared, 0xFFFF_E000, 0x5000_0000, 0x1000, DmaDirection.FromDevice);
        ulong msiIova = Presets.ArmSwMsiWindow.Start;
        StateBuilder.Allocate(shared, msiIova, 0x1000, AllocationOwner.MsiPage);
        StateBuilder.MapLeaves(shared, msiIova, SocDoorbell, 0x1000, Prot.Write | Prot.NoExec | Prot.Mmio);
        shared.MsiPages.Add(new MsiPage(SocDoorbell, msiIova));
        shared.Iotlb.Add(new IotlbEntry(0, 0xFFFF_F000, 0x4000_0000, 0x1000, Prot.Read));
        shared.Iotlb.Add(new IotlbEntry(1, 0xFFFF_E000, 0x5000_0000, 0x1000, Prot.Read | Prot.Write)); // LPAE stage 1 cannot drop read
        // ARM LPAE 4K, 32-bit input: levels [2, 9, 9]. Leaves at 0xFFFFE000, 0xFFFFF000 and
        // 0x08000000 need the root, two level-1 tables (1 GiB slots 3 and 0) and two leaf tables.
        shared.TablePages = 6;
        shared.PendingFreeTablePages = 1;

        var gpu = b.Domain(2, 2, DomainType.DmaFq, 3);
        b.Map(3, gpu, 0xFFFF_0000, 0x1_0000_0000, 0x10000);
        b.MapBypass(4, 0x4800_0000, 0x1000);
        return b;
    }

    public static IEnumerable<(string Name, Func<StateBuilder> Build)> All() =>
    [
        (Presets.X86Vtd, X86Vtd), (Presets.K8Gart, K8Gart), (Presets.PowerTce, PowerTce), (Presets.Direct, Direct),
        (Presets.Virtio, Virtio), (Presets.SocVcm, SocVcm),
    ];
}
