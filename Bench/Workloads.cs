using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Bench;

/// <summary>The systems the DMA-level workloads compare, behind one small shape so every
/// benchmark runs the same ops on each.</summary>
public enum Peer { Optimized, LinuxStyle, Model }

internal static class Workloads
{
    public const int Nic = 0; // x86-vtd: a 64-bit PCI device in the default DMA-FQ domain

    public static Func<Op, Outcome> Build(Peer peer, PlatformConfig platform) => peer switch
    {
        Peer.Optimized => new OptimizedSystem(platform, OptimizedSystemOptions.Optimized).Apply,
        Peer.LinuxStyle => new OptimizedSystem(platform, OptimizedSystemOptions.LinuxStyle).Apply,
        _ => new ModelSystem(platform).Apply,
    };

    /// <summary>4 KiB buffers in x86 RAM above 4 GiB, one page apart.</summary>
    public static ulong PagePhys(int i) => 0x1_0000_0000UL + (ulong)i * 0x1000;

    public static Mapped MapPage(Func<Op, Outcome> apply, int i) =>
        apply(new Map(Nic, new PhysAddr(PagePhys(i)), 0x1000, DmaDirection.ToDevice)) as Mapped
        ?? throw new InvalidOperationException($"map of page {i} failed");

    public static void Expect(Outcome outcome, string what)
    {
        if (!outcome.IsSuccess) throw new InvalidOperationException($"{what}: {outcome}");
    }
}
