using System.Diagnostics;

namespace DmaVerify.Tests.CliCheck;

/// <summary>The README's two commands are what CI runs: `.ci/readme-commands` extracts them
/// from the README and `.ci/run` calls it. (The commands themselves run in CI, in a fresh clone;
/// running `dotnet test` from inside `dotnet test` would recurse.)</summary>
public class ReadmeCommandsTests
{

    [Fact]
    public void CiRunsTheReadmeCommandsScript()
    {
        var run = File.ReadAllLines(Path.Combine(Repo.Root, ".ci", "run"));
        Assert.Contains(run, line => line.Trim() == "bash .ci/readme-commands");
    }

    [Fact]
    public void TheReadmeBlockHoldsTheMainJobAndTheTestCommand()
    {
        // The same extraction the script does, run by the script's own awk program.
        string script = File.ReadAllText(Path.Combine(Repo.Root, ".ci", "readme-commands"));
        int start = script.IndexOf("awk '", StringComparison.Ordinal) + 5;
        string program = script[start..script.IndexOf("' \"$repo/README.md\"", StringComparison.Ordinal)];
        var awk = new ProcessStartInfo("awk") { RedirectStandardOutput = true };
        awk.ArgumentList.Add(program);
        awk.ArgumentList.Add(Path.Combine(Repo.Root, "README.md"));
        using var process = Process.Start(awk)!;
        var commands = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        Assert.Equal(["dotnet run --project Cli -- check", "dotnet test Verify.sln"], commands);
    }
}
