using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>The answer of <see cref="IPageTable.Map"/>: success, or the error kind and the IOVA
/// where mapping stopped (nothing of the request stays mapped either way on failure).</summary>
public readonly record struct MapResult(DmaErrorKind? Error, ulong At)
{
    public static readonly MapResult Ok = new(null, 0);
    public bool IsSuccess => Error is null;
    public override string ToString() => Error is DmaErrorKind kind ? $"{kind} at {Hex.Format(At)}" : "ok";
}
