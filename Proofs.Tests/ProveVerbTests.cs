using DmaVerify.Cli;

namespace DmaVerify.Tests.ProofTests;

public sealed class ProveVerbTests
{
    [Fact]
    public void Prints_a_line_per_obligation_and_exits_0_when_all_prove()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        string smt2 = Path.Combine(Path.GetTempPath(), $"dmaverify-smt2-{Guid.NewGuid():N}");
        try
        {
            int rc = VerifyCli.Run(["prove", "--filter", "PO-40,PO-08", "--smt2", smt2], output, error);
            Assert.True(rc == ExitCodes.Ok, output + error.ToString());
            Assert.Matches(@"PO-08\s+proved\s+\d+\.\d\d s\s+rlimit\s+\d+\s+INV-14", output.ToString());
            Assert.Matches(@"PO-40\s+proved", output.ToString());
            Assert.Contains("2 of 2 proved", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("(check-sat)", File.ReadAllText(Path.Combine(smt2, "PO-40.smt2")), StringComparison.Ordinal);
        }
        finally { if (Directory.Exists(smt2)) Directory.Delete(smt2, recursive: true); }
    }

    [Fact]
    public void An_unknown_filter_is_bad_input()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(ExitCodes.BadInput, VerifyCli.Run(["prove", "--filter", "PO-99"], output, error));
        Assert.Contains("no obligation matches 'PO-99'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void One_unknown_id_in_a_list_is_named_not_dropped()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(ExitCodes.BadInput, VerifyCli.Run(["prove", "--filter", "PO-40,PO-4l"], output, error));
        Assert.Contains("--filter: no obligation matches 'PO-4l'", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PO-40 ", output.ToString(), StringComparison.Ordinal); // nothing was proved
    }

    [Theory]
    [InlineData("--smt2", "/proc/nope")]
    [InlineData("--tests", "/proc/version")]
    public void An_unwritable_output_folder_is_refused_before_any_proof(string option, string path)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(ExitCodes.BadInput, VerifyCli.Run(["prove", "--filter", "PO-40", option, path], output, error));
        Assert.Contains($"verify prove: {option} {path}: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("nothing was run", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }
}
