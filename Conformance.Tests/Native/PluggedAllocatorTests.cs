using DmaVerify.Cli.Composition;
using DmaVerify.FuzzRuntime;
using DmaVerify.Native;
using DmaVerify.Native.Loading;
using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.Native;

/// <summary>Loading allocators through the C ABI and as .NET types, in this process and in a
/// host process: what they offer, the one-line refusals, and the calls themselves.</summary>
public class PluggedAllocatorTests
{
    internal static PluggedAllocator Load(string spec, bool inProcess = false, double timeoutSeconds = 10)
    {
        Assert.True(AllocatorSpec.TryParse(spec, out var parsed, out string error), error);
        return PluggedAllocator.Load(parsed, new PluggedAllocatorOptions
        {
            InProcess = inProcess,
            CallTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            HostCommand = inProcess ? [] : PluggedImplementation.HostCommand(),
        });
    }

    private static string TestTargets(string type) =>
        $"{Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll")}:DmaVerify.Fuzz.TestTargets.{type}";

    [CFact]
    public void TheExampleAnswersTheSameInThisProcessAndInAHost()
    {
        foreach (bool inProcess in new[] { true, false })
        {
            using var plugged = Load(CAllocators.Example(), inProcess);
            Assert.Equal("libmine", plugged.Name);
            Assert.Contains("C ABI 1, dv_iova_flush_caches, dv_iova_ranges", plugged.Describe());
            var a = plugged.Create(1, 12);
            Assert.Equal(0xFFUL, a.AllocFast(1, 0xFF, true));
            Assert.Equal(0xF8UL, a.AllocFast(3, 0xFF, true));           // rounded to 4, size-aligned, below 0xFF
            Assert.Equal(0xF0UL, a.Alloc(5, 0xF7, sizeAligned: true));  // 8-aligned, below the limit
            Assert.True(a.Reserve(0x10, 0x1F));
            Assert.Equal(0UL, a.AllocFast(1, 0, true));                 // the interface's rule: below the start
            Assert.True(a.FreeFast(0xF8, 3));
            Assert.Equal(1, a.CachedCount);
            a.FlushCaches();
            Assert.Equal(0, a.CachedCount);
            Assert.True(a.Free(0xF3));                                  // any PFN inside frees the range
            Assert.False(a.Free(0xF3));
            Assert.Equal([new IovaRange(0x10, 0x1F, true), new IovaRange(0xFF, 0xFF, false)], a.Ranges());
        }
    }

    [CFact]
    public void EveryMissingSymbolIsNamedInOneLine()
    {
        string partial = CAllocators.WithoutFreeFastAndReserve();
        foreach (bool inProcess in new[] { true, false })
        {
            var e = Assert.Throws<AllocatorLoadException>(() => Load(partial, inProcess));
            Assert.Equal("libpartial.so: missing symbols dv_iova_free_fast, dv_iova_reserve (the C ABI of Native/include/dmaverify_iova.h; declare them with C linkage)", e.Message);
        }
    }

    [CFact]
    public void AnotherAbiVersionIsRefusedBeforeAnyOtherCall()
    {
        string abi2 = CAllocators.Compile("abi2", """
            #define dv_iova_abi_version dv_iova_abi_version_of_the_example
            #include "iova_mine.c"
            #undef dv_iova_abi_version
            uint32_t dv_iova_abi_version(void) { return 2; }
            """);
        var e = Assert.Throws<AllocatorLoadException>(() => Load(abi2, inProcess: true));
        Assert.Equal("libabi2.so: dv_iova_abi_version() returned 2, but this DmaVerify speaks ABI 1 (Native/include/dmaverify_iova.h)", e.Message);
    }

    [Fact]
    public void AFileThatIsNoSharedObjectIsRefusedInOneLine()
    {
        string file = Path.Combine(Path.GetTempPath(), $"dmaverify-not-elf-{Guid.NewGuid():N}.so");
        File.WriteAllText(file, "not an ELF file\n");
        try
        {
            var e = Assert.Throws<AllocatorLoadException>(() => Load(file, inProcess: true));
            Assert.StartsWith($"{file}: cannot be loaded as a shared object: ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("", "--allocator needs PATH.so or PATH.dll:Namespace.Type")]
    [InlineData("/no/such/libx.so", "--allocator /no/such/libx.so: no such file")]
    [InlineData("/tmp", "--allocator /tmp: is a folder, not a shared object or assembly")]
    [InlineData("My.dll", "--allocator My.dll: a .NET allocator is named PATH.dll:Namespace.Type (the type implementing IIovaAllocator)")]
    [InlineData("My.dll:", "--allocator My.dll:: after PATH.dll: comes a type name, Namespace.Type")]
    public void BadSpecsSayWhatIsWrong(string spec, string expected)
    {
        Assert.False(AllocatorSpec.TryParse(spec, out _, out string error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void NamesComeFromTheFileOrTheType()
    {
        string dir = Directory.CreateTempSubdirectory("dmaverify-names-").FullName;
        try
        {
            foreach (var (file, name) in new[] { ("libmine.so", "libmine"), ("libmine.so.1", "libmine"), ("libmine.cov.so", "libmine.cov"), ("alloc", "alloc") })
            {
                File.WriteAllText(Path.Combine(dir, file), "");
                Assert.True(AllocatorSpec.TryParse(Path.Combine(dir, file), out var spec, out _));
                Assert.Equal(name, spec.Name);
            }
            Assert.True(AllocatorSpec.TryParse(TestTargets("WrappedAugmented"), out var managed, out _));
            Assert.Equal(("WrappedAugmented", AllocatorKind.ManagedType), (managed.Name, managed.Kind));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ADotNetTypeLoadsInThisProcessAndInAHost()
    {
        foreach (bool inProcess in new[] { true, false })
        {
            using var plugged = Load(TestTargets("WrappedAugmented"), inProcess);
            Assert.Contains(".NET IIovaAllocator", plugged.Describe());
            var a = plugged.Create(1, 12);
            Assert.Equal(0xFFUL, a.AllocFast(1, 0xFF, true));
            Assert.Equal([new IovaRange(0xFF, 0xFF, false)], a.Ranges());
        }
    }

    [Theory]
    [InlineData("NoSuchType", "no public type DmaVerify.Fuzz.TestTargets.NoSuchType (allocators there: ")]
    [InlineData("PlantedCrash", "DmaVerify.Fuzz.TestTargets.PlantedCrash does not implement DmaVerify.Optimized.Iova.IIovaAllocator")]
    [InlineData("WithoutTheConstructor", "DmaVerify.Fuzz.TestTargets.WithoutTheConstructor needs a public constructor (UInt64 startPfn, Int32 granuleShift)")]
    public void ATypeThatIsNoAllocatorIsRefusedInOneLine(string type, string expected)
    {
        var e = Assert.Throws<AllocatorLoadException>(() => Load(TestTargets(type), inProcess: true));
        Assert.Contains(expected, e.Message);
    }

    [CFact]
    public void PrintsOfTheAllocatorDoNotDisturbTheHost()
    {
        string noisy = CAllocators.Compile("noisy", """
            #include <stdio.h>
            #define dv_iova_alloc_fast quiet_alloc_fast
            #include "iova_mine.c"
            #undef dv_iova_alloc_fast
            uint64_t dv_iova_alloc_fast(dv_iova *iovad, uint64_t pages, uint64_t limit_pfn, int flush)
            {
                printf("alloc_fast %llu pages\n", (unsigned long long)pages);
                fflush(stdout);
                return quiet_alloc_fast(iovad, pages, limit_pfn, flush);
            }
            """);
        using var plugged = Load(noisy);
        var a = plugged.Create(1, 12);
        for (ulong i = 0; i < 100; i++) Assert.Equal(0xFFFUL - i, a.AllocFast(1, 0xFFF, true));
    }

    [CFact]
    public void ASegfaultIsACrashNamingTheSignalAndTheCallAndTheNextSpaceGetsAFreshHost()
    {
        using var plugged = Load(CAllocators.Example("segv"));
        var a = plugged.Create(1, 12);
        var pfns = Enumerable.Range(0, 5).Select(_ => a.AllocFast(1, 0xFF, true)).ToList();
        for (int i = 0; i < 4; i++) Assert.True(a.FreeFast(pfns[i], 1));
        var crash = Assert.Throws<AllocatorCrashedException>(() => a.FreeFast(pfns[4], 1));
        Assert.Equal("the allocator libmine-segv crashed (SIGSEGV, signal 11) in dv_iova_free_fast(iovad, pfn=0xfb, pages=0x1)", crash.Message);
        // Every instance of that host is gone, and says why.
        Assert.Equal(crash.Message, Assert.Throws<AllocatorCrashedException>(() => a.AllocFast(1, 0xFF, true)).Message);
        var b = plugged.Create(1, 12);
        Assert.Equal(0xFFUL, b.AllocFast(1, 0xFF, true));
        Assert.Equal(1, plugged.HostRestarts);
    }

    [CFact]
    public void ACallThatDoesNotReturnIsKilledAfterTheTimeout()
    {
        using var plugged = Load(CAllocators.Example("hang"), timeoutSeconds: 2);
        var a = plugged.Create(1, 12);
        Assert.Equal(1UL, a.AllocFast(1, 1, true));
        var started = DateTime.UtcNow;
        var hang = Assert.Throws<AllocatorHungException>(() => a.AllocFast(1, 1, true));
        Assert.Equal("the allocator libmine-hang did not return from dv_iova_alloc_fast(iovad, pages=0x1, limit_pfn=0x1, flush_rcache=1) within 2 s; its host process was killed", hang.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
        Assert.Equal(1UL, plugged.Create(1, 12).AllocFast(1, 1, true));
    }
}

/// <summary>The trace-pc-guard build of the example: its edges reach whatever coverage map is
/// attached, from this process and from a host process.</summary>
[Collection(CoverageMapCollection.Name)]
public class PluggedAllocatorCoverageTests
{
    [ClangFact]
    public void TheCoverageBuildCountsItsEdgesIntoTheAttachedMap()
    {
        foreach (bool inProcess in new[] { true, false })
        {
            using var plugged = PluggedAllocatorTests.Load(CAllocators.Coverage(), inProcess);
            Assert.True(plugged.Capabilities.CoverageEdges > 50, plugged.Describe());
            using var map = new DmaVerify.Fuzz.Instrumentation.ManagedCoverageMap();
            ForeignEdges.Reset();
            var a = plugged.Create(1, 12);
            Assert.Equal(0xFFUL, a.AllocFast(1, 0xFF, true));
            Assert.True(map.EdgesHit() > 5, $"{map.EdgesHit()} map entries hit ({(inProcess ? "in process" : "hosted")})");
            var (edges, reached) = ForeignEdges.Snapshot();
            Assert.Equal(plugged.Capabilities.CoverageEdges, edges);
            Assert.InRange(reached, 5u, edges);
        }
    }
}
