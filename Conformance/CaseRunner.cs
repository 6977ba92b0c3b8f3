using DmaVerify.Harness;
using DmaVerify.Native;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Conformance;

/// <summary>A call that ran: its step, the call, how its caller writes it, and what it returned.</summary>
public sealed record ExecutedCall(int Step, AllocatorCall Call, string Text, string Result)
{
    public override string ToString() => Result.Length == 0 ? $"step {Step}: {Text}" : $"step {Step}: {Text} = {Result}";
}

/// <summary>One case run on a fresh allocator: the calls that ran (skipped ones are not steps),
/// the first broken property, and refusals the subject explained as known incompleteness.</summary>
public sealed record CaseRun(AllocatorCase Case, IReadOnlyList<ExecutedCall> Executed, ConformanceFinding? Finding, IReadOnlyList<KnownDeviation> Known)
{
    /// <summary>Allocations that returned 0 (the space was full under their limit, or they were refused).</summary>
    public int Refusals => Executed.Count(e => e.Call is AllocFastCall or AllocCall && e.Result is "0x0");

    /// <summary>The case with only the calls that ran: it runs the same way.</summary>
    public AllocatorCase ExecutedCase => Case with { Calls = [.. Executed.Select(e => e.Call)] };
}

/// <summary>
/// Runs a case call by call against the model's rules (<see cref="AllocatorMirror"/>): every
/// range returned must be allowed (inside [start, limit], size-aligned where asked, overlapping
/// no live allocation and no reservation); every refusal judged complete must have no allowed
/// range (a fast allocation with flush_rcache, or any allocation while the caches are known to
/// be empty); frees must answer 1 for live ranges and 0 for unheld PFNs; reservations of free
/// space must succeed. When the allocator reports its own view (Ranges / dv_iova_ranges) it is
/// compared with the calls' answers after every call, which pins a wrong free to that free.
/// </summary>
internal sealed class CaseRunner
{
    private sealed record Live(ulong Pfn, ulong Pages, ulong Requested, bool Fast, int Step, string Call)
    {
        public ulong Last => Pfn + (Pages - 1);
    }

    private readonly record struct Span(ulong Lo, ulong Hi, int Step, string Call)
    {
        public bool Overlaps(ulong lo, ulong hi) => Lo <= hi && lo <= Hi;
    }

    private readonly AllocatorSubject _subject;
    private readonly AllocatorCase _case;
    private readonly AllocatorMirror _mirror;
    private readonly List<Live> _live = [];
    private readonly List<Span> _cached = [];       // given back with FreeFast since the last flush
    private readonly List<Span> _freed = [];        // given back and not allocated again since
    private readonly List<Span> _reservations = [];
    private readonly List<ExecutedCall> _executed = [];
    private readonly List<KnownDeviation> _known = [];
    private IIovaAllocator _allocator = null!;
    private ConformanceFinding? _finding;
    private bool _dirty;                            // a FreeFast since the last flush

    private CaseRunner(AllocatorSubject subject, AllocatorCase c)
    {
        _subject = subject;
        _case = c;
        _mirror = new AllocatorMirror(c.StartPfn, c.GranuleShift);
    }

    public static CaseRun Run(AllocatorSubject subject, AllocatorCase c) => new CaseRunner(subject, c).Execute();

    private CallStyle Style => _subject.Style;
    private ulong Start => _mirror.StartPfn;
    private ulong Max => _mirror.MaxPfn;
    private int StepIndex => _executed.Count;

    private CaseRun Execute()
    {
        var create = new IovaCallText(IovaCall.Create, _case.StartPfn, (ulong)_case.GranuleShift).Format(Style);
        try
        {
            _allocator = _subject.Create(_case.StartPfn, _case.GranuleShift);
        }
        catch (Exception e) when (e is not AllocatorLoadException) // a host that cannot start is the tool's failure
        {
            _finding = new ConformanceFinding(e is TimeoutException ? ConformanceRule.Hang : ConformanceRule.Crash, 0, create, e.Message);
            return new CaseRun(_case, _executed, _finding, _known);
        }
        try
        {
            foreach (var call in _case.Calls)
            {
                Step(call);
                if (_finding is not null) break;
            }
        }
        finally
        {
            if (_allocator is IDisposable disposable)
            {
                try { disposable.Dispose(); }
                catch (Exception) { /* a crashed allocator: its finding is recorded already */ }
            }
        }
        return new CaseRun(_case, _executed, _finding, _known);
    }

    private bool WellFormed(ulong pages, ulong limit) => pages >= 1 && limit >= Start && limit <= Max && pages - 1 <= limit - Start;

    private void Step(AllocatorCall call)
    {
        int before = _executed.Count;
        switch (call)
        {
            case AllocFastCall c: AllocFast(c); break;
            case AllocCall c: Alloc(c); break;
            case FreeCall c: Free(c); break;
            case FreeFastCall c: FreeFast(c); break;
            case FreeUnheldCall c: FreeUnheld(c); break;
            case ReserveCall c: Reserve(c); break;
            case FlushCall c: Flush(c); break;
        }
        if (_finding is null && _executed.Count > before) AfterCall(call);
    }

    // ---- the calls ----

    private void AllocFast(AllocFastCall c)
    {
        var request = _mirror.FastRequest(c.Pages, c.LimitPfn);
        if (!WellFormed(request.Pages, c.LimitPfn) || request.AlignPages == 0 || request.AlignPages > Max) return;
        string text = c.Call.Format(Style);
        if (!Invoke(c, text, () => _allocator.AllocFast(c.Pages, c.LimitPfn, c.Flush), out ulong pfn)) return;
        Executed(c, text, Pfn(pfn));
        if (pfn != 0)
        {
            Accept(pfn, request, c.Pages, fast: true, text);
            return;
        }
        if (!c.Flush && _subject.KeepsCaches) return; // ranges in the caches may block it: allowed
        _cached.Clear();
        _dirty = false;
        Complete(request, text);
    }

    private void Alloc(AllocCall c)
    {
        var request = AllocatorMirror.TreeRequest(c.Pages, c.LimitPfn, c.SizeAligned);
        if (!WellFormed(c.Pages, c.LimitPfn) || request.AlignPages == 0 || request.AlignPages > Max) return;
        string text = c.Call.Format(Style);
        if (!Invoke(c, text, () => _allocator.Alloc(c.Pages, c.LimitPfn, c.SizeAligned), out ulong pfn)) return;
        Executed(c, text, Pfn(pfn));
        if (pfn != 0) Accept(pfn, request, c.Pages, fast: false, text);
        else if (!_dirty || !_subject.KeepsCaches) Complete(request, text);
    }

    private void Free(FreeCall c)
    {
        if (_live.Count == 0) return;
        var live = _live[c.Live % _live.Count];
        ulong pfn = live.Pfn + c.Offset % live.Pages;
        string text = new IovaCallText(IovaCall.Free, pfn).Format(Style);
        if (!Invoke(c, text, () => _allocator.Free(pfn) ? 1UL : 0, out ulong freed)) return;
        Executed(c, text, Bool(freed != 0));
        if (freed == 0)
        {
            Fail(ConformanceRule.FreeFrees, $"{text} = {Bool(false)}", $"PFN 0x{pfn:x} lies in {Range(live.Pfn, live.Last)}, live since step {live.Step} ({live.Call})");
            return;
        }
        Forget(live, text, cached: false);
    }

    private void FreeFast(FreeFastCall c)
    {
        var fast = _live.Where(l => l.Fast).ToList();
        if (fast.Count == 0) return;
        var live = fast[c.Live % fast.Count];
        string text = new IovaCallText(IovaCall.FreeFast, live.Pfn, live.Requested).Format(Style);
        if (!Invoke(c, text, () => _allocator.FreeFast(live.Pfn, live.Requested) ? 1UL : 0, out ulong done)) return;
        Executed(c, text, Style == CallStyle.CAbi ? "" : Bool(done != 0));
        if (done == 0)
        {
            Fail(ConformanceRule.FreeFrees, $"{text} = {Bool(false)}", $"{Range(live.Pfn, live.Last)} is live since step {live.Step} ({live.Call})");
            return;
        }
        Forget(live, text, cached: _subject.KeepsCaches);
    }

    private void FreeUnheld(FreeUnheldCall c)
    {
        ulong pfn = c.Pfn;
        if (pfn < Start || pfn > Max || _mirror.AllocationHolding(pfn) is not null
            || _reservations.Any(r => r.Overlaps(pfn, pfn)) || _cached.Any(r => r.Overlaps(pfn, pfn))) return;
        string text = new IovaCallText(IovaCall.Free, pfn).Format(Style);
        if (!Invoke(c, text, () => _allocator.Free(pfn) ? 1UL : 0, out ulong freed)) return;
        Executed(c, text, Bool(freed != 0));
        if (freed == 0) return;
        // What it freed instead, when its view can say (the check after the call names it).
        if (_subject.ReportsRanges) AfterCall(c);
        Fail(ConformanceRule.FreeFrees, $"{text} = {Bool(true)}", $"no allocation holds PFN 0x{pfn:x}, so nothing may be freed");
    }

    private void Reserve(ReserveCall c)
    {
        if (c.PfnLo > c.PfnHi || c.PfnHi > Max || _mirror.OverlapsAllocation(c.PfnLo, c.PfnHi)) return;
        if (_dirty && _subject.KeepsCaches) return; // DmaVerify flushes before it reserves
        string text = new IovaCallText(IovaCall.Reserve, c.PfnLo, c.PfnHi).Format(Style);
        if (!Invoke(c, text, () => _allocator.Reserve(c.PfnLo, c.PfnHi) ? 1UL : 0, out ulong ok)) return;
        Executed(c, text, Bool(ok != 0));
        if (ok == 0)
        {
            Fail(ConformanceRule.ReserveRespected, $"{text} = {Bool(false)}", $"no allocation lives in {Range(c.PfnLo, c.PfnHi)}: the reservation must succeed");
            return;
        }
        _mirror.Reserved(c.PfnLo, c.PfnHi);
        _reservations.Add(new Span(c.PfnLo, c.PfnHi, StepIndex - 1, text));
    }

    private void Flush(FlushCall c)
    {
        string text = new IovaCallText(IovaCall.FlushCaches).Format(Style);
        if (!Invoke(c, text, () => { _allocator.FlushCaches(); return 0; }, out _)) return;
        Executed(c, text, "");
        _cached.Clear();
        _dirty = false;
    }

    // ---- judging ----

    private void Accept(ulong pfn, PfnRequest request, ulong requested, bool fast, string text)
    {
        string call = $"{text} = {Pfn(pfn)}";
        if (_mirror.Judge(pfn, request) is { } rejection)
        {
            Fail(RuleOf(rejection.Invariant), call, Explain(pfn, request, rejection));
            return;
        }
        ulong last = pfn + (request.Pages - 1);
        _cached.RemoveAll(s => s.Overlaps(pfn, last));
        _freed.RemoveAll(s => s.Overlaps(pfn, last));
        _mirror.Allocated(pfn, request.Pages);
        _live.Add(new Live(pfn, request.Pages, requested, fast, StepIndex - 1, text));
    }

    /// <summary>A refusal that must be right: no allowed range may exist.</summary>
    private void Complete(PfnRequest request, string text)
    {
        if (_mirror.Fit(request) is not { } fit) return;
        if (_subject.KnownIncompleteness?.Invoke(_allocator) is { } reason)
        {
            _known.Add(new KnownDeviation(StepIndex - 1, text, reason));
            return;
        }
        string call = $"{text} = {Pfn(0)}";
        string free = $"{Range(fit.Lo, fit.Hi)} is free and allowed (the model's highest fit for {request.Pages:x} pages aligned {request.AlignPages:x})";
        // Without the allocator's own view a free that did not free shows only here: name the
        // free that gave the space back, as the likely culprit.
        string suspect = _freed.FirstOrDefault(s => s.Overlaps(fit.Lo, fit.Hi)) is { Call: not null } given
            ? $"; it lies in {Range(given.Lo, given.Hi)}, which step {given.Step} gave back ({given.Call}): if that free did not free it, the slip is there"
            : "";
        Fail(ConformanceRule.Completeness, call, $"the allocation failed, but {free}{suspect}");
    }

    private static ConformanceRule RuleOf(string invariant) => invariant switch
    {
        "INV-01" => ConformanceRule.NoOverlap,
        "INV-02" => ConformanceRule.ReserveRespected,
        "INV-05" => ConformanceRule.WithinLimits,
        _ => ConformanceRule.SizeAlignment,
    };

    private string Explain(ulong pfn, PfnRequest request, PfnRejection rejection)
    {
        ulong last = pfn > Max || request.Pages - 1 > Max - pfn ? ulong.MaxValue : pfn + (request.Pages - 1);
        string range = last == ulong.MaxValue ? $"[0x{pfn:x}..]" : Range(pfn, last);
        switch (rejection.Invariant)
        {
            case "INV-05" when pfn < Start: return $"{range} starts below start_pfn 0x{Start:x}";
            case "INV-05" when last == ulong.MaxValue: return $"{range} runs past the last PFN of the space, 0x{Max:x}";
            case "INV-05": return $"{range} ends above limit_pfn 0x{request.LimitPfn:x}";
            case "INV-01":
                var other = _live.First(l => l.Pfn <= last && pfn <= l.Last);
                return $"{range} overlaps {Range(other.Pfn, other.Last)}, live since step {other.Step} ({other.Call})";
            case "INV-02":
                var reserved = _reservations.First(r => r.Overlaps(pfn, last));
                return $"{range} overlaps {Range(reserved.Lo, reserved.Hi)}, reserved at step {reserved.Step}";
            default:
                return $"{range} starts at 0x{pfn:x}, not a multiple of 0x{request.AlignPages:x} (roundup_pow_of_two of {request.Pages:x} pages)";
        }
    }

    /// <summary>After a call: the allocator's own view (when it reports one) must match what the
    /// calls answered, and its own check (if any) must pass.</summary>
    private void AfterCall(AllocatorCall call)
    {
        string text = $"{_executed[^1].Text}" + (_executed[^1].Result.Length > 0 ? $" = {_executed[^1].Result}" : "");
        if (_subject.ReportsRanges)
        {
            IReadOnlyList<AllocatorRange> view;
            try
            {
                view = _allocator is IAllocatorView own ? own.OwnRanges()
                    : [.. _allocator.Ranges().Select(r => new AllocatorRange(r.PfnLo, r.PfnHi, r.Reserved ? AllocatorRangeKind.Reserved : AllocatorRangeKind.Allocated))];
            }
            catch (Exception e)
            {
                Fail(e is TimeoutException ? ConformanceRule.Hang : ConformanceRule.Crash, text, $"asking for its ranges afterwards: {e.Message}");
                return;
            }
            if (CheckView(call, text, view)) return;
        }
        string? selfCheck;
        try
        {
            selfCheck = _subject.SelfCheck?.Invoke(_allocator);
        }
        catch (Exception e)
        {
            selfCheck = $"{e.GetType().Name}: {e.Message}";
        }
        if (selfCheck is not null) Fail(ConformanceRule.ConsistentView, text, $"the allocator's own check fails afterwards: {selfCheck}");
    }

    /// <summary>True (with the finding recorded) when the view disagrees.</summary>
    private bool CheckView(AllocatorCall call, string text, IReadOnlyList<AllocatorRange> view)
    {
        bool isFree = call is FreeCall or FreeFastCall or FreeUnheldCall;
        for (int i = 0; i < view.Count; i++)
        {
            if (view[i].PfnLo > view[i].PfnHi || i > 0 && view[i].PfnLo <= view[i - 1].PfnHi)
                return Fail(ConformanceRule.ConsistentView, text, $"its ranges are not sorted and disjoint: {(i > 0 ? view[i - 1] + ", " : "")}{view[i]}");
        }
        var held = view.Where(r => r.Kind != AllocatorRangeKind.Reserved).ToDictionary(r => r.PfnLo);
        foreach (var live in _live)
        {
            if (held.TryGetValue(live.Pfn, out var r) && r.PfnHi == live.Last) continue;
            string lost = $"it no longer holds {Range(live.Pfn, live.Last)}, live since step {live.Step} ({live.Call})";
            return Fail(isFree ? ConformanceRule.FreeFrees : ConformanceRule.ConsistentView, text, isFree ? $"{lost}: it freed the wrong range" : lost);
        }
        foreach (var r in held.Values)
        {
            if (_live.Any(l => l.Pfn == r.PfnLo && l.Last == r.PfnHi) || _cached.Any(c => c.Lo == r.PfnLo && c.Hi == r.PfnHi)) continue;
            if (isFree && _freed.Count > 0 && _freed[^1].Lo == r.PfnLo && _freed[^1].Hi == r.PfnHi && _freed[^1].Step == StepIndex - 1)
                return Fail(ConformanceRule.FreeFrees, text, $"it still holds {Range(r.PfnLo, r.PfnHi)} ({r.Kind.ToString().ToLowerInvariant()}): the free did not free it");
            return Fail(ConformanceRule.ConsistentView, text, $"it holds {r} although no live allocation or cached range is there");
        }
        foreach (var reservation in _reservations)
            if (Uncovered(view, reservation.Lo, reservation.Hi) is ulong hole)
                return Fail(ConformanceRule.ReserveRespected, text, reservation.Step == StepIndex - 1
                    ? $"it reserved nothing: its ranges do not hold PFN 0x{hole:x} of {Range(reservation.Lo, reservation.Hi)}"
                    : $"PFN 0x{hole:x} of {Range(reservation.Lo, reservation.Hi)}, reserved at step {reservation.Step}, is not held any more");
        return false;
    }

    /// <summary>The first PFN of [lo, hi] no range of the sorted view holds, or null.</summary>
    private static ulong? Uncovered(IReadOnlyList<AllocatorRange> view, ulong lo, ulong hi)
    {
        ulong next = lo;
        foreach (var r in view)
        {
            if (r.PfnHi < next) continue;
            if (r.PfnLo > next) return next;
            if (r.PfnHi >= hi) return null;
            next = r.PfnHi + 1;
        }
        return next;
    }

    // ---- bookkeeping ----

    private void Forget(Live live, string text, bool cached)
    {
        _mirror.Freed(live.Pfn);
        _live.Remove(live);
        var span = new Span(live.Pfn, live.Last, StepIndex - 1, text);
        _freed.Add(span);
        if (!cached) return;
        _cached.Add(span);
        _dirty = true;
    }

    private bool Invoke(AllocatorCall call, string text, Func<ulong> run, out ulong result)
    {
        try
        {
            result = run();
            return true;
        }
        catch (Exception e) when (e is not AllocatorLoadException)
        {
            result = 0;
            _executed.Add(new ExecutedCall(StepIndex, call, text, "(no answer)"));
            Fail(e is TimeoutException ? ConformanceRule.Hang : ConformanceRule.Crash, text, e.Message);
            return false;
        }
    }

    private void Executed(AllocatorCall call, string text, string result) => _executed.Add(new ExecutedCall(StepIndex, call, text, result));

    private bool Fail(ConformanceRule rule, string call, string message)
    {
        _finding ??= new ConformanceFinding(rule, Math.Max(0, StepIndex - 1), call, message);
        return true;
    }

    private string Pfn(ulong pfn) => Style == CallStyle.CAbi ? $"0x{pfn:x}" : $"0x{pfn:X}";
    private string Bool(bool b) => Style == CallStyle.CAbi ? (b ? "1" : "0") : b.ToString();
    private static string Range(ulong lo, ulong hi) => $"[0x{lo:x}..0x{hi:x}]";
}
