namespace DmaVerify.Conformance;

/// <summary>The allocator-level properties the suite checks, each pinned to the call that broke it.</summary>
public enum ConformanceRule
{
    /// <summary>An allocation overlaps a live allocation (INV-01).</summary>
    NoOverlap,
    /// <summary>An allocation lies outside [start_pfn, limit_pfn] or past the space (INV-05).</summary>
    WithinLimits,
    /// <summary>An allocation's first PFN is not a multiple of roundup_pow_of_two of its size.</summary>
    SizeAlignment,
    /// <summary>An allocation overlaps a reservation, or a reservation was refused or not kept (INV-02).</summary>
    ReserveRespected,
    /// <summary>A free did not free the range it named (or freed another, or something unheld).</summary>
    FreeFrees,
    /// <summary>An allocation failed although an allowed range existed (INV-11).</summary>
    Completeness,
    /// <summary>The allocator's own view of the space disagrees with what its calls answered.</summary>
    ConsistentView,
    /// <summary>A call crashed (a signal in the host process) or threw.</summary>
    Crash,
    /// <summary>A call did not return within the call timeout.</summary>
    Hang,
}

/// <summary>The first broken property of a case: which, at which executed call (0-based), that
/// call as its caller writes it with what it returned, and why it is wrong.</summary>
public sealed record ConformanceFinding(ConformanceRule Rule, int Step, string Call, string Message)
{
    /// <summary>The model's invariant id where one applies (null for frees, views, crashes and hangs).</summary>
    public string? Invariant => Rule switch
    {
        ConformanceRule.NoOverlap => "INV-01",
        ConformanceRule.ReserveRespected => "INV-02",
        ConformanceRule.WithinLimits => "INV-05",
        ConformanceRule.Completeness => "INV-11",
        _ => null,
    };

    /// <summary>The rule with its invariant: "WithinLimits (INV-05)", "Crash".</summary>
    public string What => Invariant is null ? Rule.ToString() : $"{Rule} ({Invariant})";

    public override string ToString() => $"step {Step}: {What}: {Call}: {Message}";
}

/// <summary>A refusal the subject explained as its documented incompleteness (LinuxStyle's
/// max32_alloc_size), counted instead of failing the case.</summary>
public sealed record KnownDeviation(int Step, string Call, string Reason);
