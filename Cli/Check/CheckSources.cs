using DmaVerify.Cli.Text;

namespace DmaVerify.Cli.Check;

/// <summary>Every engine `verify check` runs, in the order its table shows them.</summary>
internal static class CheckSources
{
    public static IReadOnlyList<ICheckSource> All(IScenarioText text) =>
    [
        new CorpusCheckSource(text),
        new PropertyCheckSource(),
        new FuzzCheckSource(),
        new ConformanceCheckSource(),
        new ExploreCheckSource(),
        new ProofCheckSource(),
    ];
}
