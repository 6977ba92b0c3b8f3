using System.Security.Cryptography;
using System.Text;
using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Fuzz.Engine;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Tests.Fuzzing;

/// <summary>
/// Fuzz inputs carry a format version whose tables never change, so a corpus file decodes to the
/// same scenario in every later DmaVerify: every file committed before versions existed
/// (Pinned/corpus-v0.txt, with the scenario each decoded to then) still does, a few are pinned
/// here in full, new inputs are marked, and the mutator keeps the mark.
/// </summary>
[Collection(CoverageMapCollection.Name)]
public class FormatVersionTests
{
    private static string PinFile => Repo.PathOf("Fuzz.Tests", "Pinned", "corpus-v0.txt");

    public static IEnumerable<(string Target, string Name, string Digest, byte[] Data)> Version0Pins() =>
        File.ReadLines(PinFile).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(' ')).Select(f => (f[0], f[1], f[2], Convert.FromBase64String(f[3])));

    private static string Text(string target, ReadOnlySpan<byte> data) =>
        ScenarioPrinter.Print(FuzzTargets.Create(target, Implementations.Registry).Decode(data).ToScenario());

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void EveryVersion0CorpusFileDecodesToTheScenarioItDecodedToBefore()
    {
        var pins = Version0Pins().ToList();
        Assert.Equal(94, pins.Count);
        foreach (var (target, name, digest, data) in pins)
        {
            Assert.Equal(name, AtomicFile.Sha1Hex(data));
            Assert.Equal(0, FuzzFormat.VersionOf(data));
            Assert.True(digest == Digest(Text(target, data)), $"{target}/{name} decodes to another scenario now:\n{Text(target, data)}");
        }
    }

    [Theory]
    [InlineData("mixed", "DAAAAAcBAgUIAAIBAAAgAAAAAAAPAQgCAAAAAAAAAAAAAAAACQECAAAAAAAAAAAAAAAAAA==",
        "preset virtio@arm-smmu\nmap-sg dev=1 segs=0x880200000+0x1000,0x880202000+0x1000,0x880204000+0x1000 dir=from_device\ndevice-access dev=1 addr=#0 len=0x40 write\nunmap-sg dev=1 handle=#0 nents=3 dir=from_device\n")]
    [InlineData("mixed", "CwAAAAcBAgUQAAIBAAAgAAAAAAAPAQgCAAAAAAAAAAAAAAAACQECAAAAAAAAAAAAAAAAAA==",
        "preset virtio@amd-vi\nmap-sg dev=1 segs=0x10000200000+0x1000,0x10000202000+0x1000,0x10000204000+0x1000 dir=from_device\ndevice-access dev=1 addr=#0 len=0x40 write\nunmap-sg dev=1 handle=#0 nents=3 dir=from_device\n")]
    [InlineData("mixed", "BAAAAAcBAgUEAAIBAAAgAAAAAAAPAQgCAAAAAAAAAAAAAAAACQECAAAAAAAAAAAAAAAAAA==",
        "preset power-tce\nmap-sg dev=1 segs=0x4000200000+0x1000,0x4000202000+0x1000,0x4000204000+0x1000 dir=from_device\ndevice-access dev=1 addr=#0 len=0x40 write\nunmap-sg dev=1 handle=#0 nents=3 dir=from_device\n")]
    [InlineData("k8-gart", "AAAAABoAAAgACAAAAAAAAAAAAAAAAAEFCgAAAAAQAAAAAAAA",
        "preset k8-gart\nset-mask dev=0 mask=0xFFFFFFFF coherent=0xFFFFFFFF\nmap dev=0 phys=0x10000001000 len=0x1000 dir=to_device\n")]
    [InlineData("power-tce", "AAAAAAsAAAcAAAAAAABAAAAAAAAMAAAAAAAAAAAAAAAAAAAA",
        "preset power-tce\nalloc-coherent dev=0 phys=0x400000 size=0x2000\nfree-coherent dev=0 handle=#0 size=0x2000\n")]
    public void PinnedVersion0InputsDecodeAsWritten(string target, string base64, string scenario) =>
        Assert.Equal(scenario, Text(target, Convert.FromBase64String(base64)).ReplaceLineEndings("\n"));

    /// <summary>Header bytes past the table's length wrap the way they always did (a preset added
    /// to version 0's table would move them: the expected names are written out here).</summary>
    [Theory]
    [InlineData(16, "x86-vtd")]
    [InlineData(17, "amd-vi")]
    [InlineData(100, "power-tce")]
    [InlineData(200, "arm-smmu-16k")]
    [InlineData(255, "virtio@direct")]
    public void Version0PresetBytesKeepTheirPresets(byte selector, string preset)
    {
        var mixed = FuzzTargets.Create(FuzzTargets.Mixed, Implementations.Registry);
        Assert.Equal(preset, mixed.Decode([selector, 0, 0, 0]).Preset);
        Assert.Equal(preset, mixed.Decode([.. FuzzFormat.Prefix(1), selector, 0, 0, 0]).Preset);
    }

    /// <summary>The committed seeds are now written in the current version, and they mean what
    /// the version-0 seeds they replace meant.</summary>
    [Theory]
    [MemberData(nameof(SeedCorpusTests.Targets), MemberType = typeof(SeedCorpusTests))]
    public void SeedsCarryTheCurrentVersionAndMeanWhatTheVersion0SeedsMeant(string target)
    {
        var seeds = SeedCorpus.For(target);
        Assert.All(seeds, s => Assert.Equal(FuzzFormat.Current, FuzzFormat.VersionOf(s)));
        var before = Version0Pins().Where(p => p.Target == target).Select(p => p.Digest).Order(StringComparer.Ordinal);
        var now = seeds.Select(s => Digest(Text(target, s))).Order(StringComparer.Ordinal);
        Assert.Equal(before, now);
    }

    /// <summary>A version's tables are never edited (that would remap its inputs): a new preset
    /// or op kind needs a new version.</summary>
    [Fact]
    public void Version0And1TablesAreFrozen()
    {
        Assert.Equal(FuzzFormat.For(0).Presets, FuzzFormat.For(1).Presets);
        Assert.Equal(
            ["x86-vtd", "amd-vi", "arm-smmu", "k8-gart", "power-tce", "direct", "virtio", "soc-vcm",
             "arm-smmu-16k", "arm-smmu-64k", "virtio@x86-vtd", "virtio@amd-vi", "virtio@arm-smmu", "virtio@k8-gart", "virtio@power-tce", "virtio@direct"],
            FuzzFormat.For(1).Presets);
        Assert.Equal(FuzzFormat.For(0).OpKinds, FuzzFormat.For(1).OpKinds);
        Assert.Equal(FuzzFormat.For(1).Presets, FuzzTargets.CurrentPresets);
        Assert.Same(FuzzFormat.For(0).Presets, FuzzTargets.MixedPresets); // unmarked inputs stay on version 0's table
    }

    /// <summary>The same body means the same scenario with or without the version-1 mark (the
    /// tables agree), and a version this build does not know still decodes.</summary>
    [Fact]
    public void MarkedAndUnmarkedBodiesAgreeAndUnknownVersionsStillDecode()
    {
        foreach (var (target, _, _, data) in Version0Pins())
        {
            Assert.Equal(Text(target, data), Text(target, [.. FuzzFormat.Prefix(1), .. data]));
            Assert.NotNull(Text(target, [FuzzFormat.Marker0, FuzzFormat.Marker1, 200, .. data]));
        }
        Assert.False(FuzzFormat.IsKnown(200));
    }

    /// <summary>Mutations work on the body: the version mark survives every one of them.</summary>
    [Fact]
    public void TheMutatorKeepsTheVersionMark()
    {
        var mutator = new Mutator(new Random(3), FuzzDictionary.ForTarget("mixed"));
        var seeds = SeedCorpus.For("mixed");
        var buffer = new byte[FuzzOptions.DefaultMaxLen];
        for (int i = 0; i < 5000; i++)
        {
            var seed = seeds[i % seeds.Count];
            seed.CopyTo(buffer, 0);
            int size = mutator.Mutate(buffer, seed.Length, buffer.Length, seeds[(i * 7) % seeds.Count]);
            Assert.Equal(FuzzFormat.Current, FuzzFormat.VersionOf(buffer.AsSpan(0, size)));
        }
    }
}
