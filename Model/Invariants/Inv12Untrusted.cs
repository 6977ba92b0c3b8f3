using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-12: an untrusted device sees no byte beyond its buffers. Every translated part of a
    /// mapping made for an untrusted device either covers whole granules (phys and length
    /// aligned to the domain granule), or is bounced: its swiotlb slot exists, belongs to the
    /// device, holds the part's bytes, spans every granule the buffer copy touches (so the
    /// mapped granules contain nothing but the copy and padding), has zeroed padding, and
    /// overlaps no other live bounce slot.
    /// </summary>
    private static void CheckUntrusted(CheckContext c, List<Violation> output)
    {
        var overlapping = OverlappingSlots(c.Bounces);
        foreach (var m in c.Mappings)
        {
            if (!m.UntrustedDevice) continue;
            foreach (var part in c.PartsOf(m))
            {
                if (part.IsBypass || c.Domain(part.Domain) is not { } domain) continue;
                ulong granule = CheckContext.Granule(domain);
                if (granule == 0) continue;
                var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
                void Report(string text) => output.Add(new Violation(Inv12, m.Device, range, $"mapping {m.Id}: untrusted part {CheckContext.Describe(range)}: {text}"));

                if (part.Bounce is not int slotId)
                {
                    if ((part.Phys & (granule - 1)) != 0 || (part.Length & (granule - 1)) != 0)
                        Report($"phys {Hex.Format(part.Phys)}+{Hex.Format(part.Length)} is not granule-aligned ({Hex.Format(granule)}) and was not bounced, so the device sees the neighbouring bytes");
                    continue;
                }
                if (c.Bounce(slotId) is not { } slot)
                {
                    Report($"names bounce slot {slotId}, which does not exist");
                    continue;
                }
                if (slot.Device != m.Device)
                    Report($"bounce slot {slot.Id} belongs to device {slot.Device}");
                if (!CheckContext.TryRange(slot.BufferPhys, slot.Length, out var buffer))
                {
                    Report($"bounce slot {slot.Id} has an empty or wrapping buffer {Hex.Format(slot.BufferPhys)}+{Hex.Format(slot.Length)}");
                    continue;
                }
                if (!CheckContext.TryRange(part.Phys, part.Length, out var partPhys) || !buffer.Contains(partPhys))
                    Report($"reaches phys {Hex.Format(part.Phys)}+{Hex.Format(part.Length)}, outside the copy {buffer} in bounce slot {slot.Id}");
                var granules = CheckContext.Outward(buffer, granule);
                if (!slot.Slot.Contains(granules))
                    Report($"bounce slot {slot.Id} {slot.Slot} does not span the whole granules {granules} around its copy {buffer}");
                if (!slot.PaddingZeroed)
                    Report($"bounce slot {slot.Id}: the padding around the copy is not zeroed, so the device can read stale data");
                if (overlapping.Contains(slot.Id))
                    Report($"bounce slot {slot.Id} {slot.Slot} overlaps another live bounce slot");
            }
        }
    }

    /// <summary>Ids of live bounce slots that overlap another slot (sweep by start).</summary>
    private static HashSet<int> OverlappingSlots(IReadOnlyList<BounceSlot> slots)
    {
        var result = new HashSet<int>();
        BounceSlot? reach = null;
        foreach (var s in slots.OrderBy(s => s.Slot.Start))
        {
            if (reach is not null && s.Slot.Start <= reach.Slot.Last)
            {
                result.Add(s.Id);
                result.Add(reach.Id);
            }
            if (reach is null || s.Slot.Last > reach.Slot.Last) reach = s;
        }
        return result;
    }
}
