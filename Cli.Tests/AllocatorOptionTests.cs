using System.Text.RegularExpressions;
using DmaVerify.Cli;

namespace DmaVerify.Tests.CliCheck;

/// <summary>`--allocator` on the verbs, run in-process on the example C allocator and its
/// planted variants, with a small corpus in a temporary folder (findings go beside it).</summary>
public sealed class AllocatorOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-allocator-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string Example(string name) => Path.Combine(CAllocators.Root, "corpus", "examples", name);

    /// <summary>A corpus folder holding the given examples.</summary>
    private string Corpus(params string[] examples)
    {
        string corpus = Path.Combine(_dir, "corpus");
        Directory.CreateDirectory(corpus);
        foreach (var name in examples) File.Copy(Example(name), Path.Combine(corpus, name), overwrite: true);
        return corpus;
    }

    [CFact]
    public void AConformanceFindingNamesTheCallAndItsReplayCommandReproducesIt()
    {
        string limit = CAllocators.Example("limit");
        var (code, output, _) = Run("check", "--quick", "--engine", "conformance", "--allocator", limit, "--corpus", Corpus());
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("conformance/libmine-limit: WithinLimits (INV-05) at call 0 of a 1-call case: dv_iova_alloc", output);
        var replay = Regex.Match(output, @"replay: verify replay (\S+\.iova) --allocator (\S+)");
        Assert.True(replay.Success, output);
        Assert.Equal(Path.Combine(_dir, "artifacts", "check", "conformance", "libmine-limit.iova"), replay.Groups[1].Value);

        (code, output, _) = Run("replay", replay.Groups[1].Value, "--allocator", replay.Groups[2].Value);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("libmine-limit breaks WithinLimits (INV-05) at step 0: dv_iova_alloc", output);

        // The same file on the correct allocator passes.
        (code, output, _) = Run("replay", replay.Groups[1].Value, "--allocator", CAllocators.Example());
        Assert.True(code == ExitCodes.Ok, output);
        Assert.Contains("result: PASSED (1 call run)", output);
    }

    [CFact]
    public void ACrashingAllocatorIsAFindingAtItsStepAndTheCheckGoesOn()
    {
        string segv = CAllocators.Example("segv");
        var (code, output, _) = Run("check", "--quick", "--engine", "corpus", "--engine", "props:refine", "--engine", "conformance",
            "--target", "x86-vtd", "--target", "-", "--allocator", segv, "--corpus", Corpus("vtd-unmap-burst.scn"));
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("corpus/libmine-segv/x86-vtd: ", output);
        Assert.Contains("vtd-unmap-burst.scn: step 10: ImplementationCrash CRASH: libmine-segv reported internal error: the allocator libmine-segv crashed (SIGSEGV, signal 11) in dv_iova_free_fast", output);
        // The items after the crash ran, and the conformance suite found the crash on its own.
        Assert.Matches(@"refine/libmine-segv/x86-vtd: (pass|FAIL)", output);
        Assert.Contains("conformance/libmine-segv: Crash at call", output);
        Assert.Contains("check: FAILED", output);
    }

    [CFact]
    public void ReplayAndShowRunTheScenarioOnTheAllocatorBesideTheModel()
    {
        var (code, output, _) = Run("replay", Example("vtd-lazy-unmap.scn"), "--allocator", CAllocators.Example());
        Assert.True(code == ExitCodes.Ok, output);
        Assert.Contains("model vs libmine", output);
        Assert.Contains("result: PASSED (model and libmine agree on all 8 steps", output);

        (code, output, _) = Run("show", Example("vtd-lazy-unmap.scn"), "--allocator", CAllocators.Example(), "--in-process");
        Assert.True(code == ExitCodes.Ok, output);
        Assert.Contains("allocator libmine, its own view (dv_iova_ranges) of each IOVA space it made:", output);
        Assert.Matches(@"space 1: start_pfn 0x1, granule 4 KiB, \d+ range\(s\); serves domain 0", output);
        Assert.Contains("[0xfee00..0xfeeff] reserved", output);
    }

    [CFact]
    public void ABadAllocatorIsOneLineAndExitTwoBeforeAnyWork()
    {
        string partial = CAllocators.WithoutFreeFastAndReserve();
        foreach (var verb in new[] { "check", "fuzz", "replay", "show", "bench" })
        {
            string[] head = verb switch
            {
                "fuzz" => ["fuzz", "x86-vtd"],
                "replay" or "show" => [verb, Example("vtd-lazy-unmap.scn")],
                _ => [verb],
            };
            var (code, output, error) = Run([.. head, "--allocator", partial]);
            Assert.True(code == ExitCodes.BadInput, $"{verb}: {code}\n{output}{error}");
            Assert.Equal($"verify {verb}: --allocator libpartial.so: missing symbols dv_iova_free_fast, dv_iova_reserve " +
                         "(the C ABI of Native/include/dmaverify_iova.h; declare them with C linkage)\n", error);
            Assert.Equal("", output);
        }
        foreach (var (args, message) in new (string[], string)[]
        {
            (["check", "--allocator", "/no/such/libx.so"], "verify check: --allocator /no/such/libx.so: no such file\n"),
            (["check", "--in-process"], "verify check: --in-process needs --allocator\n"),
            (["replay", Example("vtd-lazy-unmap.scn"), "--allocator", CAllocators.Example(), "--allocator-timeout", "0"],
                "verify replay: --allocator-timeout 0: give seconds between 0 and 86400\n"),
        })
        {
            var (code, _, error) = Run(args);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Equal(message, error);
        }
    }

    [Fact]
    public void ADotNetAllocatorIsGivenAsAssemblyAndType()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll");
        var (code, output, _) = Run("check", "--quick", "--engine", "conformance", "--allocator", $"{dll}:DmaVerify.Fuzz.TestTargets.LimitPlusOne", "--corpus", Corpus());
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("conformance/LimitPlusOne: WithinLimits (INV-05)", output);
        Assert.Contains(": AllocFast(pages: 0x", output);

        (code, output, _) = Run("check", "--quick", "--engine", "conformance", "--engine", "corpus", "--allocator", $"{dll}:DmaVerify.Fuzz.TestTargets.WrappedAugmented",
            "--corpus", Corpus("vtd-lazy-unmap.scn"));
        Assert.True(code == ExitCodes.Ok, output);
        Assert.Contains("corpus:WrappedAugmented", output);
    }
}

/// <summary>`verify fuzz --allocator`: an allocator crash found by the engine is a crash file
/// whose replay line carries the allocator (these share the process-wide coverage map).</summary>
[Collection(CoverageMapCollection.Name)]
public sealed class AllocatorFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dmaverify-allocator-fuzz-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [CFact]
    public void AnAllocatorCrashFoundByTheFuzzerIsWrittenAndReplayedWithTheAllocator()
    {
        // Crashes on the first two-page fast allocation: any 8 KiB map on x86-vtd reaches it.
        string crashy = CAllocators.Compile("crash2", """
            #define dv_iova_alloc_fast example_alloc_fast
            #include "iova_mine.c"
            #undef dv_iova_alloc_fast
            uint64_t dv_iova_alloc_fast(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int flush)
            {
                if (pages == 2) *(volatile int *)0 = 1;
                return example_alloc_fast(iovad, pages, limit_pfn, flush);
            }
            """);
        var output = new StringWriter();
        var error = new StringWriter();
        string seeds = Path.Combine(CAllocators.Root, "corpus", "x86-vtd");
        int code = VerifyCli.Run(["fuzz", "x86-vtd", Path.Combine(_dir, "work"), seeds, "-runs=200", "-seed=1", "-no_instrument=1",
            $"-artifact_prefix={_dir}/", "--allocator", crashy], output, error);
        string log = error.ToString();
        Assert.True(code == ExitCodes.Failed, log);
        Assert.Contains("the allocator libcrash2 crashed (SIGSEGV, signal 11) in dv_iova_alloc_fast(iovad, pages=0x2", log);
        var replay = Regex.Match(log, @"replay with: verify replay (\S+) --target x86-vtd --allocator (\S+)");
        Assert.True(replay.Success, log);

        output = new StringWriter();
        code = VerifyCli.Run(["replay", replay.Groups[1].Value, "--target", "x86-vtd", "--allocator", replay.Groups[2].Value], output, new StringWriter());
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("model and libcrash2 part at step", output.ToString());
        Assert.Contains("crashed (SIGSEGV, signal 11)", output.ToString());
    }
}
