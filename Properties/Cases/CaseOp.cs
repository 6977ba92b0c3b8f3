using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// One op of a generated case. <see cref="Target"/> is the index of the earlier step whose
/// mapping the op's <see cref="LiveRef"/> handle names: handles are positional ("the n-th live
/// mapping"), so when the shrinker removes ops the index is recomputed from the target, and an
/// op whose target mapping is gone is dropped (<see cref="CaseSimulator"/>).
/// </summary>
public sealed record CaseOp(Op Op, int? Target = null)
{
    public override string ToString() => ScenarioPrinter.FormatOp(Op);
}
