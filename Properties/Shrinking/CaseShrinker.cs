using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Shrinks a failing case to a small one that fails the same way (same
/// <see cref="Finding.Signature"/>). Candidates remove ops (the tail after the failing step
/// first, then chunks of halving size, then single ops), drop unused extra devices, and shrink
/// op arguments (lengths, offsets, segment lists, masks, ticks). Every candidate is
/// re-simulated on the model (<see cref="CaseSimulator.Rebuild"/>) so handles keep naming the
/// mappings they meant, and ops whose mapping no longer exists are dropped: every shrunk case is
/// a valid sequence. Greedy: the first smaller candidate that still fails is taken.
/// </summary>
public sealed class CaseShrinker(Func<PropertyCase, Finding?> run, int maxRuns = 3000)
{
    public int Runs { get; private set; }

    public (PropertyCase Case, Finding Finding) Shrink(PropertyCase failing, Finding finding)
    {
        string signature = finding.Signature;
        var current = failing;
        var currentFinding = finding;
        Accept(Truncate(current, finding.Step));

        bool progress = true;
        while (progress && Runs < maxRuns)
        {
            progress = false;
            foreach (var candidate in Candidates(current))
            {
                if (Runs >= maxRuns) break;
                if (Accept(candidate)) { progress = true; break; }
            }
        }
        return (current, currentFinding);

        bool Accept(PropertyCase candidate)
        {
            var rebuilt = CaseSimulator.Rebuild(candidate);
            if (rebuilt.Ops.Count == 0 || !Smaller(rebuilt, current)) return false;
            Runs++;
            var f = run(rebuilt);
            if (f is null || f.Signature != signature) return false;
            current = Truncate(rebuilt, f.Step);
            currentFinding = f;
            return true;
        }
    }

    private static PropertyCase Truncate(PropertyCase c, int step) =>
        step + 1 >= c.Ops.Count ? c : c with { Ops = c.Ops.Take(step + 1).ToValueList() };

    /// <summary>Fewer ops, or as many with fewer devices or smaller arguments.</summary>
    private static bool Smaller(PropertyCase a, PropertyCase b) =>
        a.Ops.Count != b.Ops.Count ? a.Ops.Count < b.Ops.Count
        : a.Devices.Count != b.Devices.Count ? a.Devices.Count < b.Devices.Count
        : Weight(a) < Weight(b);

    private static UInt128 Weight(PropertyCase c) => c.Ops.Aggregate(UInt128.Zero, (w, o) => w + ArgumentWeight(o.Op));

    private static UInt128 ArgumentWeight(Op op) => op switch
    {
        Map o => (UInt128)o.Length + Bits(o.Phys.Value) + (ulong)o.Attrs,
        MapSg o => o.Segments.Aggregate((UInt128)(ulong)o.Segments.Count << 40, (w, s) => w + s.Length + Bits(s.Phys.Value)),
        AllocCoherent o => (UInt128)o.Size + Bits(o.Phys.Value),
        MapResource o => (UInt128)o.Length,
        DeviceAccess o => (UInt128)o.Length + (o.Address is LiveRef l ? l.Offset : 0) + (o.Write ? 1UL : 0),
        Tick o => o.Milliseconds,
        IommuMap o => (UInt128)o.Size,
        _ => 0,
    };

    /// <summary>Set bits: an address with fewer is "rounder", which is what a reader wants.</summary>
    private static ulong Bits(ulong v) => (ulong)System.Numerics.BitOperations.PopCount(v);

    private static IEnumerable<PropertyCase> Candidates(PropertyCase c)
    {
        int n = c.Ops.Count;
        // Chunks of halving size, from the front: ops near the failure tend to matter.
        for (int chunk = n / 2; chunk >= 1; chunk /= 2)
            for (int start = 0; start + chunk <= n; start += chunk)
                yield return Without(c, start, chunk);

        var used = c.Ops.Select(o => CaseSimulator.DeviceOf(o.Op)).ToHashSet();
        for (int d = 0; d < c.Devices.Count; d++)
            if (!used.Contains(c.Devices[d].Id))
                yield return c with { Devices = c.Devices.Where((_, k) => k != d).ToValueList() };

        for (int i = 0; i < n; i++)
            foreach (var smaller in ShrinkArguments(c.Ops[i].Op))
                yield return c with { Ops = c.Ops.Select((o, k) => k == i ? o with { Op = smaller } : o).ToValueList() };
    }

    private static PropertyCase Without(PropertyCase c, int start, int count)
    {
        // Targets are step indexes; removed steps leave ops that named them unresolvable, which
        // Rebuild drops. Renumber the rest to the positions they keep.
        var kept = new List<CaseOp>(c.Ops.Count - count);
        var position = new Dictionary<int, int>();
        for (int i = 0; i < c.Ops.Count; i++)
        {
            if (i >= start && i < start + count) continue;
            position[i] = kept.Count;
            var op = c.Ops[i];
            kept.Add(op.Target is int t ? op with { Target = position.TryGetValue(t, out int p) ? p : -1 } : op);
        }
        return c with { Ops = kept.ToValueList() };
    }

    private static IEnumerable<Op> ShrinkArguments(Op op)
    {
        switch (op)
        {
            case Map m:
                foreach (var len in SmallerLengths(m.Length)) yield return m with { Length = len };
                foreach (var phys in RounderAddresses(m.Phys.Value)) yield return m with { Phys = new PhysAddr(phys) };
                if (m.Attrs != DmaAttrs.None) yield return m with { Attrs = DmaAttrs.None };
                break;
            case MapSg s:
                for (int i = 0; i < s.Segments.Count && s.Segments.Count > 1; i++)
                    yield return s with { Segments = s.Segments.Where((_, k) => k != i).ToValueList() };
                for (int i = 0; i < s.Segments.Count; i++)
                    foreach (var len in SmallerLengths(s.Segments[i].Length))
                        yield return s with { Segments = s.Segments.Select((e, k) => k == i ? e with { Length = len } : e).ToValueList() };
                break;
            case AllocCoherent a:
                if (a.Size > BufferGen.Page) yield return a with { Size = BufferGen.Page };
                break;
            case DeviceAccess d:
                if (d.Length > 1) yield return d with { Length = 1 };
                if (d.Address is LiveRef { Offset: > 0 } l) yield return d with { Address = l with { Offset = 0 } };
                if (d.Write) yield return d with { Write = false };
                break;
            case Tick t:
                if (t.Milliseconds > 0) yield return t with { Milliseconds = 0 };
                if (t.Milliseconds > 10) yield return t with { Milliseconds = 10 };
                break;
            case IommuMap im:
                if (im.Size > 0x1000) yield return im with { Size = im.Size / 2 & ~0xFFFUL };
                break;
        }
    }

    private static IEnumerable<ulong> SmallerLengths(ulong length)
    {
        if (length > BufferGen.Page) yield return BufferGen.Page;
        if (length > 1) yield return 1;
        if (length > 2) yield return length / 2;
        if (length > BufferGen.Page && length % BufferGen.Page != 0) yield return length & ~(BufferGen.Page - 1);
    }

    private static IEnumerable<ulong> RounderAddresses(ulong address)
    {
        foreach (ulong align in new ulong[] { 0x4000_0000, BufferGen.Superpage, 0x10000, BufferGen.Page })
        {
            ulong rounded = address & ~(align - 1);
            if (rounded != address && rounded != 0) yield return rounded;
        }
    }
}
