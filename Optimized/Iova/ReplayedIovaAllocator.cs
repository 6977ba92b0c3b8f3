namespace DmaVerify.Optimized.Iova;

/// <summary>
/// Makes an allocator that cannot copy itself (one loaded from C, say) copyable: every call
/// that changes it is logged with its result, and a copy is a fresh allocator from the same
/// factory with the log replayed. The log is kept only for such allocators. A replay that
/// answers differently from the original (an allocator that depends on something besides its
/// calls, such as the time or the calling thread) is refused with an
/// <see cref="InvalidOperationException"/> naming the call, never a silently different copy.
/// Calls are serialised (the log's order must be the allocator's order).
/// </summary>
public sealed class ReplayedIovaAllocator : ICloneableIovaAllocator
{
    private enum CallKind : byte { AllocFast, FreeFast, Alloc, Free, Reserve, FlushCaches }

    private readonly record struct Call(CallKind Kind, ulong A, ulong B, bool Flag, ulong Result);

    private readonly Func<IIovaAllocator> _factory;
    private readonly IIovaAllocator _inner;
    private readonly List<Call> _log;
    private readonly Lock _gate = new();

    /// <param name="factory">Builds the allocator in its initial state (same result every call).</param>
    public ReplayedIovaAllocator(Func<IIovaAllocator> factory)
        : this(factory, factory() ?? throw new InvalidOperationException("the IOVA allocator factory returned null"), [])
    {
    }

    /// <summary>Logs for <paramref name="fresh"/>, which <paramref name="factory"/> has just built.</summary>
    public ReplayedIovaAllocator(Func<IIovaAllocator> factory, IIovaAllocator fresh) : this(factory, fresh, [])
    {
    }

    private ReplayedIovaAllocator(Func<IIovaAllocator> factory, IIovaAllocator inner, List<Call> log)
    {
        _factory = factory;
        _inner = inner;
        _log = log;
    }

    /// <summary>The allocator this one logs for.</summary>
    public IIovaAllocator Inner => _inner;

    /// <summary>Calls logged since the allocator was built.</summary>
    public int LoggedCalls { get { lock (_gate) return _log.Count; } }

    public IIovaAllocator Clone()
    {
        lock (_gate)
        {
            var fresh = _factory() ?? throw new InvalidOperationException("the IOVA allocator factory returned null");
            foreach (var call in _log)
            {
                ulong got = Replay(fresh, call);
                if (got != call.Result)
                    throw new InvalidOperationException(
                        $"the IOVA allocator cannot be copied: replaying {call.Kind}({call.A:X}, {call.B:X}) gave {got:X}, the original gave {call.Result:X}");
            }
            return new ReplayedIovaAllocator(_factory, fresh, [.. _log]);
        }
    }

    /// <summary>Test-only planted bug: a fresh allocator with the log but none of its effects.</summary>
    internal IIovaAllocator RebuiltWithoutReplayForTest()
    {
        lock (_gate) return new ReplayedIovaAllocator(_factory, _factory(), [.. _log]);
    }

    private static ulong Replay(IIovaAllocator a, Call c) => c.Kind switch
    {
        CallKind.AllocFast => a.AllocFast(c.A, c.B, c.Flag),
        CallKind.FreeFast => a.FreeFast(c.A, c.B) ? 1UL : 0UL,
        CallKind.Alloc => a.Alloc(c.A, c.B, c.Flag),
        CallKind.Free => a.Free(c.A) ? 1UL : 0UL,
        CallKind.Reserve => a.Reserve(c.A, c.B) ? 1UL : 0UL,
        _ => Flush(a),
    };

    private static ulong Flush(IIovaAllocator a)
    {
        a.FlushCaches();
        return 0;
    }

    private ulong Logged(CallKind kind, ulong a, ulong b, bool flag)
    {
        lock (_gate)
        {
            var call = new Call(kind, a, b, flag, 0);
            ulong result = Replay(_inner, call);
            _log.Add(call with { Result = result });
            return result;
        }
    }

    public ulong StartPfn => _inner.StartPfn;
    public ulong MaxPfn => _inner.MaxPfn;
    public ulong AllocFast(ulong pages, ulong limitPfn, bool flushCachesOnFailure) => Logged(CallKind.AllocFast, pages, limitPfn, flushCachesOnFailure);
    public bool FreeFast(ulong pfn, ulong pages) => Logged(CallKind.FreeFast, pfn, pages, false) != 0;
    public ulong Alloc(ulong pages, ulong limitPfn, bool sizeAligned) => Logged(CallKind.Alloc, pages, limitPfn, sizeAligned);
    public bool Free(ulong pfn) => Logged(CallKind.Free, pfn, 0, false) != 0;
    public bool Reserve(ulong pfnLo, ulong pfnHi) => Logged(CallKind.Reserve, pfnLo, pfnHi, false) != 0;
    public void FlushCaches() => Logged(CallKind.FlushCaches, 0, 0, false);
    public bool Contains(ulong pfn) { lock (_gate) return _inner.Contains(pfn); }
    public int Count { get { lock (_gate) return _inner.Count; } }
    public int CachedCount { get { lock (_gate) return _inner.CachedCount; } }
    public IReadOnlyList<IovaRange> Ranges() { lock (_gate) return _inner.Ranges(); }
}
