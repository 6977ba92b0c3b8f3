using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>
    /// INV-09: scatter-gather integrity, for mappings of kind Sg. 1 ≤ output segments ≤ inputs;
    /// each output segment is non-empty, at most MaxSegmentSize long and crosses no segment
    /// boundary ((start ^ last) &amp; ~mask ≠ 0); the handle is the first segment's address
    /// and the size the sum of the inputs. The parts carry the inputs' bytes in input order
    /// (a part may carry a piece of an input; a bounced part's bytes come from its slot's
    /// original buffer) and tile the output segments in order: each segment is exactly the
    /// concatenation of consecutive parts, so the device sees the inputs' bytes in order and
    /// nothing else. Parts sharing one IOVA allocation have increasing bus addresses.
    /// </summary>
    private static void CheckScatterGather(CheckContext c, List<Violation> output)
    {
        foreach (var m in c.Mappings)
            if (m.Kind == MappingKind.Sg)
                CheckSgMapping(c.Bounce, m, output);
    }

    /// <summary>INV-09 for one sg mapping; <paramref name="bounce"/> finds a bounce slot by id.</summary>
    internal static void CheckSgMapping(Func<int?, BounceSlot?> bounce, DmaMapping m, List<Violation> output)
    {
        var inputs = CheckContext.NonNull(m.Inputs);
        var segments = CheckContext.NonNull(m.Segments);
        var parts = CheckContext.NonNull(m.Parts);
        void Report(AddrRange? range, string text) => output.Add(new Violation(Inv09, m.Device, range, $"sg mapping {m.Id}: {text}"));

        if (inputs.Count == 0) Report(null, "has no input segments");
        if (segments.Count == 0) { Report(null, "has no output segments"); return; }
        if (segments.Count > inputs.Count) Report(null, $"{segments.Count} output segments for {inputs.Count} inputs");
        if (m.Dma.Value != segments[0].Dma.Value)
            Report(null, $"the handle {m.Dma} is not the first output segment {segments[0].Dma}");
        UInt128 inputBytes = 0;
        foreach (var input in inputs) inputBytes += input.Length;
        if (inputBytes != m.Size) Report(null, $"size {Hex.Format(m.Size)} differs from the inputs' total {Hex.Format(inputBytes)}");

        var segmentRanges = new List<AddrRange>();
        for (int i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            if (!CheckContext.TryRange(s.Dma.Value, s.Length, out var r))
            {
                Report(null, $"output segment {i} {s} is empty or wraps past 2^64");
                return;
            }
            segmentRanges.Add(r);
            if (s.Length > m.MaxSegmentSize)
                Report(r, $"output segment {i} {r} is longer than the maximum segment size {Hex.Format(m.MaxSegmentSize)}");
            if (((r.Start ^ r.Last) & ~m.SegmentBoundaryMask) != 0)
                Report(r, $"output segment {i} {r} crosses a segment boundary (mask {Hex.Format(m.SegmentBoundaryMask)})");
        }

        CheckSgInputOrder(bounce, m, inputs, parts, Report);
        CheckSgTiling(segmentRanges, parts, Report);

        foreach (var group in parts.Where(p => p.Allocation is not null).GroupBy(p => (p.Domain, p.Allocation)))
        {
            ulong? previous = null;
            foreach (var p in group)
            {
                if (previous is ulong prev && p.Dma < prev)
                    Report(CheckContext.TryRange(p.Dma, p.Length, out var r) ? r : null,
                        $"part at {Hex.Format(p.Dma)} comes after a part at {Hex.Format(prev)} of the same IOVA allocation {group.Key.Allocation}: out of order");
                previous = p.Dma;
            }
        }
    }

    /// <summary>The parts, read in order, carry the inputs' bytes in order.</summary>
    private static void CheckSgInputOrder(Func<int?, BounceSlot?> bounce, DmaMapping m, IReadOnlyList<SgEntry> inputs,
        IReadOnlyList<MappingPart> parts, Action<AddrRange?, string> report)
    {
        int input = 0;
        ulong consumed = 0;
        for (int k = 0; k < parts.Count; k++)
        {
            while (input < inputs.Count && consumed == inputs[input].Length) { input++; consumed = 0; }
            var part = parts[k];
            var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
            if (input == inputs.Count)
            {
                report(range, $"part {k} carries bytes beyond the end of the inputs");
                return;
            }
            ulong source = SourcePhys(bounce, part);
            var expected = inputs[input];
            ulong remaining = expected.Length - consumed;
            if (source != unchecked(expected.Phys.Value + consumed) || part.Length > remaining || part.Length == 0)
            {
                report(range, $"part {k} carries phys {Hex.Format(source)}+{Hex.Format(part.Length)}, but the next input bytes are " +
                              $"{Hex.Format(unchecked(expected.Phys.Value + consumed))}+{Hex.Format(remaining)} (input {input})");
                return;
            }
            consumed += part.Length;
        }
        while (input < inputs.Count && consumed == inputs[input].Length) { input++; consumed = 0; }
        if (input < inputs.Count)
            report(null, $"input {input} ({inputs[input]}) is not fully carried by the parts");
    }

    /// <summary>Each output segment is exactly the concatenation of consecutive parts.</summary>
    private static void CheckSgTiling(List<AddrRange> segments, IReadOnlyList<MappingPart> parts, Action<AddrRange?, string> report)
    {
        int seg = 0;
        UInt128 offset = 0;
        for (int k = 0; k < parts.Count; k++)
        {
            var part = parts[k];
            var range = CheckContext.TryRange(part.Dma, part.Length, out var r) ? r : (AddrRange?)null;
            if (seg == segments.Count)
            {
                report(range, $"part {k} lies beyond the last output segment");
                return;
            }
            var s = segments[seg];
            if ((UInt128)part.Dma != s.Start + offset || offset + part.Length > s.Size)
            {
                report(range, $"part {k} at {Hex.Format(part.Dma)}+{Hex.Format(part.Length)} does not continue output segment {seg} {s} at offset {Hex.Format(offset)}");
                return;
            }
            offset += part.Length;
            if (offset == s.Size) { seg++; offset = 0; }
        }
        if (seg < segments.Count)
            report(segments[seg], $"output segment {seg} {segments[seg]} is not filled by the parts (bytes the device would see that no input supplied)");
    }

    /// <summary>Where a part's bytes came from: its phys, or for a bounced part the matching
    /// byte of the slot's original buffer.</summary>
    private static ulong SourcePhys(Func<int?, BounceSlot?> bounce, MappingPart part) =>
        bounce(part.Bounce) is { } slot ? unchecked(slot.OrigPhys + (part.Phys - slot.BufferPhys)) : part.Phys;
}
