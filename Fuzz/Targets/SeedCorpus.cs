using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Targets;

/// <summary>
/// The seed inputs of corpus/&lt;target&gt;/, generated (never hand-written hex): for each preset a
/// few short op lists that reach its distinctive paths: map, access and unmap; scatter-gather;
/// coherent memory; a lazy unmap with time passing and a flush; an unmanaged domain with
/// iommu-map; an MSI doorbell; a mask change; a double unmap. The mixed target gets the first
/// two for every preset and variant. Tests check the committed files equal these.
/// </summary>
public static class SeedCorpus
{
    public static IReadOnlyList<byte[]> For(string target)
    {
        if (target != FuzzTargets.Mixed) return ForPreset(target, presetSelector: 0);
        var seeds = new List<byte[]>();
        for (int i = 0; i < FuzzTargets.CurrentPresets.Count; i++)
            seeds.AddRange(ForPreset(FuzzTargets.CurrentPresets[i], (byte)i).Take(2));
        return seeds;
    }

    /// <summary>Writes every target's seeds into corpusRoot/&lt;target&gt;/ (SHA-1 names), removing
    /// files the generator no longer makes; returns the files written.</summary>
    public static int Write(string corpusRoot)
    {
        int written = 0;
        foreach (string target in FuzzTargets.Names)
        {
            var folder = new CorpusFolder(Path.Combine(corpusRoot, target));
            Directory.CreateDirectory(folder.Path);
            var seeds = For(target);
            var keep = seeds.Select(s => AtomicFile.Sha1Hex(s)).ToHashSet(StringComparer.Ordinal);
            foreach (string stale in Directory.EnumerateFiles(folder.Path).Where(f => !keep.Contains(Path.GetFileName(f))).ToList())
                File.Delete(stale);
            foreach (var seed in seeds) { folder.Add(seed); written++; }
        }
        return written;
    }

    private static IReadOnlyList<byte[]> ForPreset(string preset, byte presetSelector)
    {
        var (platform, anchors) = PresetCatalog.Get(preset);
        var ram = platform.Ram;
        byte low = FuzzInputBuilder.AnchorOf(anchors, ram[0].Start), high = FuzzInputBuilder.AnchorOf(anchors, ram[^1].Start);
        byte page = FuzzInputBuilder.SizeOf(0x1000), twoPages = FuzzInputBuilder.SizeOf(0x2000);
        const byte toDevice = 1, fromDevice = 2, write = 1 << 3;
        FuzzInputBuilder New() => new(presetSelector);
        var seeds = new List<byte[]>
        {
            // map, device read through the handle, unmap
            New().Add(new(OpKind.Map, Target: 0, Flags: toDevice, Size: page, Anchor: low, Value: 0x10_0000))
                 .Add(new(OpKind.DeviceAccess, Target: 0, Size: FuzzInputBuilder.SizeOf(0x10)))
                 .Add(new(OpKind.Unmap, Target: 0, Flags: toDevice)).ToArray(),
            // three-segment scatterlist with gaps, unmapped with the same nents
            New().Add(new(OpKind.MapSg, Target: 1 % 16, Flags: fromDevice, Size: page, Anchor: high, Count: 2, Extra: 1, Value: 0x20_0000))
                 .Add(new(OpKind.DeviceAccess, Target: 1, Flags: write, Size: FuzzInputBuilder.SizeOf(0x40)))
                 .Add(new(OpKind.UnmapSg, Target: 1, Flags: fromDevice)).ToArray(),
            // coherent buffer
            New().Add(new(OpKind.AllocCoherent, Target: 0, Size: twoPages, Anchor: low, Value: 0x40_0000))
                 .Add(new(OpKind.FreeCoherent, Target: 0)).ToArray(),
            // lazy unmap, time passes, flush, the old address is touched again
            New().Add(new(OpKind.Map, Target: 0, Flags: toDevice, Size: page, Anchor: low, Value: 0x80_0000))
                 .Add(new(OpKind.Map, Target: 0, Flags: toDevice, Size: page, Anchor: low, Value: 0x81_0000))
                 .Add(new(OpKind.Unmap, Target: 0, Flags: toDevice))
                 .Add(new(OpKind.Tick, Size: 10))
                 .Add(new(OpKind.Flush, Target: 0))
                 .Add(new(OpKind.DeviceAccess, Target: 0, Size: FuzzInputBuilder.SizeOf(0x10))).ToArray(),
            // an unmanaged (VFIO-like) domain: alloc, attach, iommu-map, access, iommu-unmap
            New().Add(new(OpKind.AllocDomain, Index: 0, Extra: 0))
                 .Add(new(OpKind.Attach, Target: (byte)(platform.Devices.Count - 1), Index: 1))
                 .Add(new(OpKind.IommuMap, Target: 1, Size: twoPages, Anchor: low, Extra: (byte)(Prot.Read | Prot.Write), Value: 0x100_0000_0000_0000))
                 .Add(new(OpKind.IommuUnmap, Target: 1, Size: twoPages, Value: 0x100_0000_0000_0000)).ToArray(),
            // a mask change, then a map high in RAM
            New().Add(new(OpKind.SetMask, Target: 0, Size: 32 - 24, Index: 32 - 24))
                 .Add(new(OpKind.Map, Target: 0, Flags: toDevice, Size: page, Anchor: high, Value: 0x1000)).ToArray(),
            // double unmap (dma-debug misuse), by raw address the second time
            New().Add(new(OpKind.Map, Target: 0, Flags: toDevice, Size: page, Anchor: low, Value: 0x3000))
                 .Add(new(OpKind.Unmap, Target: 0, Flags: toDevice))
                 .Add(new(OpKind.Unmap, Target: 0, Flags: toDevice)).ToArray(),
        };
        // MSI doorbell, on the first MSI or SW-MSI region
        var msi = platform.Iommus.SelectMany(i => i.Regions).FirstOrDefault(r => r.Type is ReservedRegionType.Msi or ReservedRegionType.SwMsi);
        if (msi is not null)
            seeds.Add(New().Add(new(OpKind.SetupMsi, Target: 0, Anchor: FuzzInputBuilder.AnchorOf(anchors, msi.Range.Start), Value: 0x40)).ToArray());
        return seeds;
    }
}
