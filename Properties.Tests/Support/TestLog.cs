using Xunit.Abstractions;

namespace DmaVerify.Properties.Tests.Support;

/// <summary>Run options that log to the xunit test output.</summary>
public static class TestLog
{
    public static PropertyRunOptions Options(ITestOutputHelper output) => new() { Log = output.WriteLine };

    /// <summary>Runs a catalogue entry and fails the test with the run's report (replay line,
    /// shrunk ops, violated invariant, regression file).</summary>
    public static PropertyResult MustPass(INamedRun run, ITestOutputHelper output, PropertyRunOptions? options = null)
    {
        var result = run.Run(options ?? Options(output));
        Assert.True(result.Passed, result.Report());
        Assert.True(result.TestsRun > 0, $"{run.Name} ran no cases");
        return result;
    }
}
