using DmaVerify.Proofs.Obligations;

namespace DmaVerify.Proofs;

/// <summary>Every proof obligation, in id order.</summary>
public static class ObligationCatalog
{
    public static IReadOnlyList<Obligation> All { get; } =
    [
        .. PteObligations.All(), .. IndexSplitObligations.All(), .. PageSizeObligations.All(),
        .. IovaFitObligations.All(), .. MagazineObligations.All(),
        .. DmaWindowObligations.All(), .. SgObligations.All(),
    ];

    /// <summary>Obligations too expensive for the default run (PO-33); `verify prove --extended`.</summary>
    public static IReadOnlyList<Obligation> Extended { get; } = [.. IovaFitObligations.Extended()];

    public static Obligation ById(string id) =>
        All.Concat(Extended).FirstOrDefault(o => string.Equals(o.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"no obligation {id}; known: {string.Join(", ", All.Select(o => o.Id))}");
}
