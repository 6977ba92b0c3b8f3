namespace DmaVerify.Properties;

/// <summary>The order in which a case gives mappings back: allocator and flush-queue bugs hide
/// behind orders (a cached node that is only wrong after the newest is freed, a magazine that
/// only fills when frees come oldest first, a queue that only matters across devices).</summary>
public enum FreeOrder
{
    /// <summary>Any live mapping.</summary>
    Random,
    /// <summary>The newest first (a stack: what a driver's error unwind does).</summary>
    Lifo,
    /// <summary>The oldest first (a ring: what a network driver's completions do).</summary>
    Fifo,
    /// <summary>The oldest of the next device in turn (several queues completing interleaved).</summary>
    ByDevice,
}

/// <summary>
/// How one case uses its mappings, drawn per case beside its swarm of op kinds: the free order,
/// and which share of mappings are long-lived (never unmapped while another can be) against
/// the churn of the rest, so allocations pile up around long-lived ones as they do under a
/// real driver's steady buffers.
/// </summary>
public sealed record CaseShape(FreeOrder Order, int LongLivedPercent, ulong Salt)
{
    public static readonly CaseShape Uniform = new(FreeOrder.Random, 0, 0);

    /// <summary>Whether the mapping with model id <paramref name="mappingId"/> is one of the
    /// case's long-lived ones (a fixed pseudo-random share, so shrinking keeps the choice).</summary>
    public bool IsLongLived(int mappingId)
    {
        if (LongLivedPercent <= 0) return false;
        ulong z = (ulong)(uint)mappingId ^ Salt;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        z ^= z >> 31;
        return z % 100 < (ulong)LongLivedPercent;
    }

    public override string ToString() => $"free {Order}, {LongLivedPercent}% long-lived";
}
