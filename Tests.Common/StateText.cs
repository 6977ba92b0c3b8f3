using System.Text;
using DmaVerify.Contracts;

namespace DmaVerify.Tests.Common;

/// <summary>A canonical text of an exported <see cref="SystemState"/>: every field, collections
/// in a fixed order, so two states are equal exactly when their texts are. For tests that
/// compare whole states (snapshot/restore).</summary>
public static class StateText
{
    public static string Of(SystemState s)
    {
        var b = new StringBuilder();
        b.Append("now ").Append(s.NowMs).AppendLine();
        foreach (var d in s.Devices.OrderBy(d => d.Id))
            b.AppendLine($"device {d.Id} mask {d.DmaMask:X} coherent {d.CoherentMask:X} bus {d.BusDmaLimit:X} domain {d.Domain} pci32 {d.Pci32First} ddw {d.DdwActive}");
        foreach (var d in s.Domains.OrderBy(d => d.Id))
        {
            b.AppendLine($"domain {d.Id} iommu {d.Iommu} {d.Type} {d.Format.Describe()} {d.Aperture} force {d.ForceAperture} {d.Policy} start {d.AllocStart:X} default {d.IsDefault}");
            b.AppendLine($"  flush {d.FlushStarted}/{d.FlushFinished} timer {d.TimerDeadline} msi-bump {d.MsiBump:X} tables {d.TablePages} pending {d.PendingFreeTablePages}");
            foreach (var a in d.Allocations.OrderBy(a => a.Range.Start)) b.AppendLine($"  alloc {a.Range} {a.Owner}");
            foreach (var r in d.Reserved.OrderBy(r => r.Range.Start).ThenBy(r => r.Reason, StringComparer.Ordinal)) b.AppendLine($"  reserved {r.Range} {r.Reason}");
            foreach (var l in d.Leaves.Values) b.AppendLine($"  leaf {l}");
            foreach (var e in d.Iotlb.OrderBy(e => e.Iommu).ThenBy(e => e.Iova)) b.AppendLine($"  iotlb {e}");
            foreach (var f in d.FlushQueue) b.AppendLine($"  fq {f}");
            foreach (var m in d.MsiPages.OrderBy(m => m.DoorbellPage)) b.AppendLine($"  msi {m}");
        }
        foreach (var m in s.Mappings)
        {
            b.AppendLine($"mapping {m.Id} dev {m.Device} {m.Kind} {m.Dma} size {m.Size:X} {m.Direction} {m.Phys} nents {m.Nents} limit {m.Limit:X} untrusted {m.UntrustedDevice} max-seg {m.MaxSegmentSize:X} boundary {m.SegmentBoundaryMask:X}");
            b.AppendLine($"  inputs {string.Join(",", m.Inputs)} segments {string.Join(",", m.Segments)}");
            foreach (var p in m.Parts) b.AppendLine($"  part {p}");
        }
        foreach (var bounce in s.Bounces.OrderBy(x => x.Id)) b.AppendLine($"bounce {bounce}");
        return b.ToString();
    }

    /// <summary>The first line where two texts differ, with both lines, or null when equal.</summary>
    public static string? FirstDifference(string expected, string actual)
    {
        if (expected == actual) return null;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<end>", al = i < a.Length ? a[i] : "<end>";
            if (el != al) return $"line {i + 1}: expected '{el.TrimEnd()}', got '{al.TrimEnd()}'";
        }
        return "texts differ";
    }
}
