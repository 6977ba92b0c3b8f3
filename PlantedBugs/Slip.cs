namespace DmaVerify.PlantedBugs;

/// <summary>The kind of mistake a planted bug is: the slips a kernel reviewer looks for.</summary>
public enum Slip
{
    /// <summary>An inclusive limit taken as exclusive or the other way round (a limit, a window end, a size class).</summary>
    OffByOneAtALimit,
    /// <summary>The right comparison against the wrong limit (mask for coherent mask, mask without bus limit).</summary>
    WrongLimit,
    /// <summary>A range that must stay out of the allocator's way is not kept out, or a 1:1 region is not mapped.</summary>
    MissedReservation,
    /// <summary>An allocation or a PTE aligned to less than it needs.</summary>
    WrongAlignment,
    /// <summary>A cached translation survives the unmap that should have dropped it.</summary>
    MissedInvalidation,
    /// <summary>Space given back before the flush (or in an order) that makes it safe to reuse.</summary>
    OrderDependentFree,
    /// <summary>A PTE written without a bit it needs.</summary>
    LostPteBit,
    /// <summary>A dma-debug or argument check that is missing.</summary>
    MissedCheck,
    /// <summary>An error path that does not take back what the op did before it failed.</summary>
    MissingUnwind,
    /// <summary>Memory (table pages) never given back.</summary>
    Leak,
    /// <summary>A cached pointer kept after the object it names was freed.</summary>
    StaleCache,
    /// <summary>Two threads interleave where the code assumes they cannot.</summary>
    Race,
}

public static class SlipText
{
    /// <summary>The slip as the catalog table names it.</summary>
    public static string Describe(this Slip slip) => slip switch
    {
        Slip.OffByOneAtALimit => "off-by-one at a limit",
        Slip.WrongLimit => "wrong limit",
        Slip.MissedReservation => "missed reservation",
        Slip.WrongAlignment => "wrong alignment",
        Slip.MissedInvalidation => "missed invalidation",
        Slip.OrderDependentFree => "order-dependent free",
        Slip.LostPteBit => "lost PTE bit",
        Slip.MissedCheck => "missed check",
        Slip.MissingUnwind => "missing unwind",
        Slip.Leak => "leak",
        Slip.StaleCache => "stale cached pointer",
        Slip.Race => "race",
        _ => slip.ToString(),
    };
}
