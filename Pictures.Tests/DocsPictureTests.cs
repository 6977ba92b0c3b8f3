namespace DmaVerify.Tests.ShowSvg;

/// <summary>
/// docs/pictures/ holds what the code draws today. Regenerate after a change to the renderer,
/// the model or the example with
/// <c>DMAVERIFY_WRITE_PICTURES=1 dotnet test Pictures.Tests --filter FullyQualifiedName~DocsPictureTests</c>
/// (writes the SVGs and, with rsvg-convert, the PNGs).
/// </summary>
public class DocsPictureTests
{
    private const string WriteVariable = "DMAVERIFY_WRITE_PICTURES";

    private static bool Writing => Environment.GetEnvironmentVariable(WriteVariable) == "1";

    [Theory]
    [InlineData(DocsPictures.SocVcmName)]
    [InlineData(DocsPictures.CounterexampleName)]
    public void PictureInDocsIsWhatTheCodeDraws(string name)
    {
        string svg = name == DocsPictures.SocVcmName ? DocsPictures.SocVcmSvg() : DocsPictures.CounterexampleSvg();
        string file = Path.Combine(DocsPictures.PictureFolder, name + ".svg");
        if (Writing)
        {
            Directory.CreateDirectory(DocsPictures.PictureFolder);
            File.WriteAllText(file, svg);
            if (RsvgConvert.Path is not null)
                RsvgConvert.ToPng(file, Path.ChangeExtension(file, ".png"));
        }
        Assert.True(File.Exists(file), $"{file} is missing; run with {WriteVariable}=1 to draw it");
        Assert.True(File.ReadAllText(file) == svg,
            $"{file} is out of date with the renderer or the model; regenerate with " +
            $"{WriteVariable}=1 dotnet test Pictures.Tests --filter FullyQualifiedName~DocsPictureTests");
    }
}
