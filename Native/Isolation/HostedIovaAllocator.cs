namespace DmaVerify.Native.Isolation;

/// <summary>One allocator instance living in a host process. Collected without being destroyed,
/// it is destroyed in the host before the client's next call.</summary>
public sealed class HostedIovaAllocator : ForeignIovaAllocator
{
    private readonly AllocatorHostClient _client;
    private readonly int _generation;
    private readonly uint _handle;

    internal HostedIovaAllocator(AllocatorHostClient client, int generation, uint handle, ulong startPfn, int granuleShift)
        : base(startPfn, granuleShift)
    {
        _client = client;
        _generation = generation;
        _handle = handle;
    }

    ~HostedIovaAllocator() => _client.Orphan(_generation, _handle);

    public override bool HasOwnView => _client.Capabilities.ReportsRanges;
    protected override bool Gone => false; // a dead host's instances throw its crash again

    private ulong Call(IovaCall call, ulong a = 0, ulong b = 0, ulong c = 0) => _client.Call(_generation, _handle, call, a, b, c);

    protected override ulong CallAllocFast(ulong pages, ulong limitPfn, bool flush) => Call(IovaCall.AllocFast, pages, limitPfn, flush ? 1UL : 0);
    protected override void CallFreeFast(ulong pfn, ulong pages) => Call(IovaCall.FreeFast, pfn, pages);
    protected override ulong CallAlloc(ulong pages, ulong limitPfn, bool sizeAligned) => Call(IovaCall.Alloc, pages, limitPfn, sizeAligned ? 1UL : 0);
    protected override bool CallFree(ulong pfn) => Call(IovaCall.Free, pfn) != 0;
    protected override bool CallReserve(ulong pfnLo, ulong pfnHi) => Call(IovaCall.Reserve, pfnLo, pfnHi) != 0;
    protected override void CallFlushCaches() => Call(IovaCall.FlushCaches);

    protected override IReadOnlyList<AllocatorRange> CallRanges()
    {
        var ranges = new List<AllocatorRange>();
        _client.Call(_generation, _handle, IovaCall.Ranges, 0, 0, 0, ranges);
        return ranges;
    }
}
