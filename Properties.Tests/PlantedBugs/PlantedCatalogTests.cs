using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Optimized;
using DmaVerify.Optimized.Dma;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Tests.PlantedBugs;

/// <summary>
/// The planted-bug catalog is what it says: at least 30 bugs with unique names, every mutation
/// switch of Optimized used by exactly one, planted in the implementations the composition root
/// builds (same options, same model options), each a real change of behaviour, and resolvable
/// by the CLI under its BASE+NAME.
/// </summary>
public class PlantedCatalogTests
{
    [Fact]
    public void ThirtyOrMoreBugsWithUniqueNamesAndEverySwitchUsedOnce()
    {
        var all = PlantedCatalog.All;
        Assert.True(all.Count >= 30, $"{all.Count} planted bugs");
        Assert.Equal(all.Count, all.Select(b => b.Name).Distinct().Count());
        var switches = all.Where(b => b.Plant != OptimizedPlant.None).Select(b => b.Plant).ToList();
        Assert.Equal(switches.Count, switches.Distinct().Count());
        Assert.Equal(Enum.GetValues<OptimizedPlant>().Where(p => p != OptimizedPlant.None).Order(), switches.Order());
        Assert.All(all, b => Assert.Contains(b.Base, new[] { PlantedCatalog.Optimized, PlantedCatalog.LinuxStyle }));
        Assert.Contains(all, b => b.Base == PlantedCatalog.LinuxStyle);
        Assert.True(all.Select(b => b.Slip).Distinct().Count() >= 8, "the catalog covers at least eight kinds of slip");
    }

    [Theory]
    [InlineData(PlantedCatalog.Optimized)]
    [InlineData(PlantedCatalog.LinuxStyle)]
    public void BugsArePlantedInTheImplementationsTheCliBuilds(string name)
    {
        var real = Implementations.Registry.Get(name);
        Assert.Equal(real.ModelOptions, PlantedCatalog.BaseModelOptions(name));
        Assert.Equal(real.AcceptKnownIncompleteness, PlantedCatalog.BaseAcceptsKnownIncompleteness(name));
        var platform = Presets.Get(Presets.X86Vtd);
        var shipped = (OptimizedSystem)real.Create(platform);
        var planted = PlantedCatalog.BaseOptions(name);
        Assert.Equal(shipped.Options with { IovaAllocator = planted.IovaAllocator }, planted);
        Assert.Equal(shipped.Options.IovaAllocator(1, 12).GetType(), planted.IovaAllocator(1, 12).GetType());
    }

    [Fact]
    public void EveryBugIsResolvableByItsImplementationName()
    {
        foreach (var bug in PlantedCatalog.All)
        {
            Assert.Same(PlantedCatalog.Registry, Implementations.Knowing(bug.ImplementationName));
            var planted = PlantedCatalog.Registry.Get(bug.ImplementationName);
            var system = planted.Create(Presets.Get(Presets.X86Vtd));
            Assert.Equal(bug.ImplementationName, system.Name);
            Assert.Same(bug, PlantedCatalog.Find(bug.Name));
        }
        Assert.Same(Implementations.Registry, Implementations.Knowing(Implementations.Optimized));
        Assert.Same(Implementations.Registry, Implementations.Knowing("no-such-thing"));
    }

    /// <summary>The site each bug names is where it is: the file holds the switch (or is the
    /// decorator) and the method named. Code moves; the catalog table must follow.</summary>
    [Fact]
    public void EverySiteNamesTheFileAndMethodThatHoldTheSlip()
    {
        string root = Repo.Root;
        foreach (var bug in PlantedCatalog.All)
        {
            var parts = bug.Site.Split(", ");
            string file = Path.Combine(root, parts[0]);
            Assert.True(File.Exists(file), $"{bug.Name}: {parts[0]} does not exist");
            string source = File.ReadAllText(file);
            if (bug.Plant != OptimizedPlant.None)
                Assert.True(source.Contains($"OptimizedPlant.{bug.Plant}", StringComparison.Ordinal), $"{bug.Name}: {parts[0]} does not use OptimizedPlant.{bug.Plant}");
            if (parts.Length > 1)
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(source, $@"\b{parts[1]}\s*\("), $"{bug.Name}: no method {parts[1]} in {parts[0]}");
        }
    }
}
