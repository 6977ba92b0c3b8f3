using DmaVerify.Proofs.Z3;

namespace DmaVerify.Tests.ProofTests;

public sealed class Z3BindingTests
{
    [Fact]
    public void Model_values_come_back_as_ulongs()
    {
        using var z3 = new Z3Context();
        var x = z3.BvVar("x", 64);
        using var solver = z3.NewSolver("QF_BV");
        solver.Assert((x * 3UL == 0xFFFF_FFFF_FFFF_FFFFUL) & (x > 5UL));
        Assert.Equal(CheckResult.Sat, solver.Check(10_000_000));
        using var model = solver.Model();
        ulong v = model.Eval(x);
        Assert.Equal(ulong.MaxValue, unchecked(v * 3));
    }

    [Fact]
    public void Unsat_and_smtlib2_text()
    {
        using var z3 = new Z3Context();
        var x = z3.BvVar("x", 64);
        var query = (x + 1UL) < x & (x != ulong.MaxValue);
        using var solver = z3.NewSolver();
        solver.Assert(query);
        Assert.Equal(CheckResult.Unsat, solver.Check(10_000_000));
        Assert.Contains("(declare-fun x () (_ BitVec 64))", z3.ToSmtLib2(query, "wrap"), StringComparison.Ordinal);
        Assert.Contains("bvadd", solver.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_resource_limit_gives_unknown_the_same_way_every_time()
    {
        // Factoring a 64-bit product needs far more than 1000 resource units.
        var answers = Enumerable.Range(0, 2).Select(_ =>
        {
            using var z3 = new Z3Context();
            BvTerm a = z3.BvVar("a", 64), b = z3.BvVar("b", 64);
            using var solver = z3.NewSolver("QF_BV");
            solver.Assert((a * b == 0x9E37_79B9_7F4A_7C15UL) & (a > 1UL) & (b > 1UL));
            return (solver.Check(1000), solver.ReasonUnknown);
        }).ToList();
        Assert.All(answers, a => Assert.Equal(CheckResult.Unknown, a.Item1));
        Assert.Equal(answers[0], answers[1]);
    }

    [Fact]
    public void Missing_libz3_names_the_package()
    {
        Assert.Contains("apt-get install libz3-4", new Z3UnavailableException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mixed_widths_are_refused()
    {
        using var z3 = new Z3Context();
        Assert.Throws<ArgumentException>(() => z3.BvVar("a", 64) + z3.BvVar("b", 32));
    }
}
