using DmaVerify.Cli;

namespace DmaVerify.Tests.ShowSvg;

/// <summary>`verify show FILE --svg OUT` run in-process.</summary>
public sealed class ShowSvgCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dmaverify-svg-" + Guid.NewGuid().ToString("N"));

    public ShowSvgCliTests() => Directory.CreateDirectory(_dir);

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

    private static string SocVcm => Path.Combine(Repo.Root, DocsPictures.SocVcmScenario);

    [Fact]
    public void WritesTheSvgAndSaysSo()
    {
        string svg = Path.Combine(_dir, "soc.svg");
        var (code, output, error) = Run("show", SocVcm, "--svg", svg);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal($"wrote {svg}: 2 domains, 0 invariant violations highlighted\n", output.Replace("\r\n", "\n"));
        var picture = new SvgPicture(File.ReadAllText(svg));
        Assert.Contains(picture.TextValues, t => t.StartsWith("domain 0: ", StringComparison.Ordinal));
        Assert.DoesNotContain("domain 0:", output); // the text rendering is not printed as well
    }

    [Fact]
    public void WithoutSvgTheTextOutputIsUnchanged()
    {
        var (code, output, _) = Run("show", SocVcm);
        Assert.Equal(0, code);
        Assert.Contains("IOVA space, by address:", output);
        Assert.DoesNotContain("<svg", output);
    }

    /// <summary>Missing folders on the way are made, as for every verb's output files.</summary>
    [Fact]
    public void AnOutPathInAMissingFolderIsWrittenThere()
    {
        string svg = Path.Combine(_dir, "no-such-folder", "x.svg");
        var (code, output, _) = Run("show", SocVcm, "--svg", svg);
        Assert.Equal(0, code);
        Assert.StartsWith($"wrote {svg}: ", output);
        Assert.True(File.Exists(svg));
    }

    [Fact]
    public void AnOutPathUnderAFileIsBadInputAndNamed()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        string svg = Path.Combine(file, "x.svg");
        var (code, output, error) = Run("show", SocVcm, "--svg", svg);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal($"{svg}: error: cannot write the SVG there: {file} is a file, not a folder", error.TrimEnd());
    }

    [Fact]
    public void AnOutPathThatIsAFolderIsBadInput()
    {
        var (code, _, error) = Run("show", SocVcm, "--svg", _dir);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"{_dir}: error: cannot write the SVG there: it is a folder", error);
    }

    [Fact]
    public void SvgWithoutAValueIsAUsageError()
    {
        var (code, _, error) = Run("show", SocVcm, "--svg");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--svg", error);
    }

    [Fact]
    public void AFailingReplayStillDrawsAndExitsOne()
    {
        string scenario = Path.Combine(_dir, "mismatch.scn");
        File.WriteAllText(scenario, "preset x86-vtd\nmap dev=1 phys=0x1000000 len=0x1000 dir=to_device # -> mapped 0x1000\n");
        string svg = Path.Combine(_dir, "mismatch.svg");
        var (code, _, error) = Run("show", scenario, "--svg", svg);
        Assert.Equal(1, code);
        Assert.Contains("1 expected-outcome mismatch", error);
        var picture = new SvgPicture(File.ReadAllText(svg));
        Assert.Contains("step 0: map dev=1 phys=0x1000000 len=0x1000 dir=to_device => mapped 0xFFFFF000; the recorded outcome was mapped 0x1000",
            string.Join(" ", picture.TextValues));
    }

    [Fact]
    public void HelpShowsAnSvgExample()
    {
        var (code, output, _) = Run("show", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--svg <OUT.svg>", output);
        Assert.Contains("verify show corpus/examples/soc-vcm-shared-tables.scn --svg soc-vcm.svg", output);
        Assert.Contains("rsvg-convert", output);
    }
}
