using DmaVerify.Cli;
using DmaVerify.Cli.Verbs;

namespace DmaVerify.Tests.Cli;

/// <summary>`verify bench` itself is run by hand (it takes minutes); here only what does not run
/// benchmarks: the help and the error when there is no Bench project.</summary>
public class BenchVerbTests
{
    [Fact]
    public void Help_ShowsTheQuickExampleAndTheChildCommand()
    {
        var output = new StringWriter();
        int rc = VerifyCli.Run(["bench", "--help"], output, new StringWriter());
        Assert.Equal(ExitCodes.Ok, rc);
        Assert.Contains("verify bench --quick", output.ToString());
        Assert.Contains("dotnet run -c Release --project Bench/Bench.csproj", output.ToString());
    }

    [Fact]
    public void NoBenchProject_IsBadInputNamingWhereItLooked()
    {
        var empty = Directory.CreateTempSubdirectory("dmaverify-bench-").FullName;
        try
        {
            var error = new StringWriter();
            Assert.Equal(ExitCodes.BadInput, BenchVerb.Run(quick: true, filter: null, new StringWriter(), error, searchFrom: empty));
            Assert.Contains("Bench/Bench.csproj", error.ToString());
            Assert.Contains(empty, error.ToString());
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void FindRoot_FindsThisCheckout()
    {
        Assert.NotNull(BenchVerb.FindRoot(AppContext.BaseDirectory));
    }
}
