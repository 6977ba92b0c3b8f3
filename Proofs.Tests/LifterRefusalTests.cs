using DmaVerify.Proofs.Lifting;
using DmaVerify.Proofs.Z3;

namespace DmaVerify.Tests.ProofTests;

/// <summary>What the lifter cannot translate exactly is refused with method, IL offset and opcode.</summary>
public sealed class LifterRefusalTests
{
    [Theory]
    [InlineData(nameof(PlantedKernels.ReadsStaticState), "ldsfld", "static fields")]
    [InlineData(nameof(PlantedKernels.LoopsToInput), "", "constant bound")]
    [InlineData(nameof(PlantedKernels.CallsMathMax), "call", "outside DmaVerify")]
    public void Refuses_with_method_offset_and_opcode(string name, string opcode, string reason)
    {
        using var z3 = new Z3Context();
        using var lifter = new IlLifter(z3);
        var method = typeof(PlantedKernels).GetMethod(name)!;
        var args = method.GetParameters().Select(p => (Term)z3.BvVar(p.Name!, 64)).ToArray();

        var e = Assert.Throws<LiftRefusedException>(() => lifter.Lift(method, args));

        Assert.Equal($"DmaVerify.Tests.ProofTests.PlantedKernels.{name}", e.Method);
        Assert.StartsWith(opcode, e.OpCode, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Matches(@"at IL_[0-9a-f]{4} \(", e.Message);
    }
}
