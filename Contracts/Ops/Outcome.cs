namespace DmaVerify.Contracts;

/// <summary>An error answer: a kind that tests and oracles compare, and a message for people.</summary>
public sealed record DmaError(DmaErrorKind Kind, string Message)
{
    public override string ToString() => $"{Kind}: {Message}";
}

/// <summary>The answer a system gives to an <see cref="Op"/>.</summary>
public abstract record Outcome
{
    public bool IsSuccess => this is not Failed;
}

/// <summary>Success with nothing to report.</summary>
public sealed record Done : Outcome
{
    public static readonly Done Instance = new();
    public override string ToString() => "ok";
}

/// <summary>A DMA address handed to the driver. <see cref="Bounce"/> names the swiotlb slot
/// used, if the buffer was bounced (the model checks and adopts that choice).</summary>
public sealed record Mapped(DmaAddr Dma, PhysAddr? Bounce = null) : Outcome;

/// <summary>One output DMA segment of dma_map_sg.</summary>
public sealed record DmaSegment(DmaAddr Dma, ulong Length)
{
    public override string ToString() => $"{Dma}+{Hex.Format(Length)}";
}

/// <summary>The output segments of dma_map_sg, and the bounce slots used (in input order)
/// when segments were bounced one by one.</summary>
public sealed record SgMapped(ValueList<DmaSegment> Segments, ValueList<PhysAddr>? Bounces = null) : Outcome;

public sealed record DomainAllocated(int Domain) : Outcome;

public sealed record Unmapped(ulong Bytes) : Outcome;

/// <summary>A contiguous run of a device access: bus bytes [Dma, Dma+Length) reached
/// physical bytes [Phys, Phys+Length).</summary>
public sealed record AccessChunk(ulong Dma, PhysAddr Phys, ulong Length)
{
    public override string ToString() => $"{Hex.Format(Dma)}->{Phys}+{Hex.Format(Length)}";
}

public sealed record Accessed(ValueList<AccessChunk> Chunks) : Outcome;

public sealed record Failed(DmaError Error) : Outcome
{
    public Failed(DmaErrorKind kind, string message) : this(new DmaError(kind, message)) { }
    public DmaErrorKind Kind => Error.Kind;
}
