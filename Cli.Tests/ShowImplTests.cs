using DmaVerify.Cli;
using DmaVerify.Pictures;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Tests;

/// <summary>`verify show FILE --impl NAME`: the implementation's exported state beside the
/// model's, differences marked.</summary>
public sealed class ShowImplTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-show-impl-" + Guid.NewGuid().ToString("N"));

    public ShowImplTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = VerifyCli.Run(args, output, error);
        return (code, output.ToString().Replace("\r\n", "\n"), error.ToString().Replace("\r\n", "\n"));
    }

    private static string VirtioBypass => Path.Combine(Repo.Root, "corpus", "examples", "virtio-bypass.scn");

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>An unmanaged ARM domain with a device, an MSI doorbell and a 1 GiB iommu_map.</summary>
    private string UnmanagedArm() => Write("vfio.scn", """
        preset arm-smmu
        alloc-domain iommu=0 type=unmanaged
        attach dev=1 domain=3
        setup-msi dev=1 doorbell=0x2f000040
        iommu-map domain=3 iova=0x40000000 phys=0x80000000 size=0x40000000 prot=rw
        """);

    [Fact]
    public void AnUnknownImplementationIsBadInputListingTheKnownNames()
    {
        var (code, output, error) = Run("show", VirtioBypass, "--impl", "nope");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal($"verify show: --impl: unknown implementation 'nope'; known: {string.Join(", ", DmaVerify.Cli.Composition.Implementations.Names)}\n", error);
    }

    [Fact]
    public void TheImplementationIsCheckedBeforeTheScenarioIsRead()
    {
        var (code, _, error) = Run("show", Path.Combine(_dir, "missing.scn"), "--impl", "nope");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("verify show: --impl: unknown implementation 'nope'", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("optimized")]
    [InlineData("linuxstyle")]
    public void BothStatesAreShownDomainByDomainAndDeviceByDevice(string impl)
    {
        var (code, output, error) = Run("show", VirtioBypass, "--impl", impl);
        Assert.Equal("", error);
        Assert.Equal(0, code);
        var lines = output.Split('\n');
        int model0 = Array.FindIndex(lines, l => l.StartsWith("  domain 0 [model]: DMA-FQ, lazy, default; iommu 0 (VtD)", StringComparison.Ordinal));
        int impl0 = Array.FindIndex(lines, l => l.StartsWith($"  domain 0 [{impl}]: DMA-FQ, lazy, default; iommu 0 (VtD)", StringComparison.Ordinal));
        int model1 = Array.FindIndex(lines, l => l.StartsWith("  domain 1 [model]: identity", StringComparison.Ordinal));
        Assert.True(model0 >= 0 && impl0 > model0 && model1 > impl0, output);
        Assert.Contains($"    dev 0 virtio-net [{impl}] (PCI, virtio, ACCESS_PLATFORM): domain 0", lines);
        // The implementation's own leaves, counted from its exported state, not copied from the model.
        Assert.Contains(lines, l => l.StartsWith("    leaf sizes  4 KiB: 257 leaves, 1028 KiB;", StringComparison.Ordinal));
        Assert.Contains($"outcomes: the model and {impl} agree on every step", lines);
        Assert.Contains($"state: no differences between the model and {impl}", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith('!'));
    }

    [Fact]
    public void TheImplementationsIommuMapIsShownAsSuch()
    {
        var (code, output, _) = Run("show", UnmanagedArm(), "--impl", "optimized");
        Assert.Equal(0, code);
        Assert.Contains("      0x40000000      0x7FFFFFFF            1 GiB  iommu-map    iommu_map'd: phys 0x80000000..0xBFFFFFFF, prot rw; leaves 1 × 1 GiB", output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("iommu-map    iommu_map'd: phys 0x80000000", StringComparison.Ordinal)));
    }

    /// <summary>The model's VT-d state after an 8 KiB map, against a copy whose page table
    /// maps the second page elsewhere, whose device lost a mapping and which has one domain more.</summary>
    [Fact]
    public void EveryDifferenceIsMarkedAndListed()
    {
        var model = ScenarioRunner.Run(ScenarioParser.Parse("""
            preset x86-vtd
            map dev=0 phys=0x12340000 len=0x2000 dir=to_device
            """).Scenario!).FinalState!;
        var impl = model.Clone();
        var domain = impl.Domain(0)!;
        var second = domain.Leaves.Values.Single(l => l.Phys == 0x1234_1000);
        domain.Leaves[second.Iova] = second with { Phys = 0x5000_0000 };
        impl.Domains.Add(new DomainState { Id = 9, Iommu = 0, Type = DomainType.Unmanaged, Format = domain.Format, Aperture = domain.Aperture });

        var comparison = new StateComparison(IovaSpaceView.Of(model), IovaSpaceView.Of(impl), "planted");
        var output = new StringWriter();
        comparison.Render("title", ["step 0: map => model mapped 0x1, planted mapped 0x2"], output);
        var lines = output.ToString().Replace("\r\n", "\n").Split('\n');

        // The moved leaf: the allocation's row differs on both sides; the same row on each side is marked.
        var moved = Assert.Single(comparison.Differences, d => d.Key.EndsWith(" mapping", StringComparison.Ordinal));
        Assert.Contains("leaves 2 × 4 KiB -> phys 0x12340000", moved.Model);
        Assert.Contains("leaves 1 × 4 KiB -> phys 0x12340000, 1 × 4 KiB -> phys 0x50000000", moved.Implementation);
        Assert.Equal(2, lines.Count(l => l.StartsWith("!     0xFFFFE000", StringComparison.Ordinal)));
        // The extra domain: absent on the model's side, every compared line of it marked on the other.
        Assert.Contains("! domain 9 [model]: absent", lines);
        Assert.Contains(lines, l => l.StartsWith("! domain 9 [planted]: unmanaged", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("!   leaf sizes  4 KiB: 0; 2 MiB: 0; 1 GiB: 0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  domain 9: only in planted: domain 9: unmanaged", StringComparison.Ordinal));
        // Nothing else differs, and what is equal is not marked.
        Assert.Equal(2, comparison.Differences.Count);
        Assert.Contains(lines, l => l.StartsWith("  domain 0 [planted]: DMA-FQ", StringComparison.Ordinal));
        Assert.Contains("outcomes: 1 step differs:", lines);
        Assert.Contains("state: 2 differences between the model and planted:", lines);
    }
}
