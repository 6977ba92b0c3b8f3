using DmaVerify.Cli.Composition;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Native;
using DmaVerify.Native.Loading;

namespace DmaVerify.Tests.Harness;

/// <summary>A registry rebuilt from its provider, as fuzzing does beside instrumented copies: the
/// built-in one from the Registry property, a plugged allocator's from RegistryFor(argument).</summary>
public class ImplementationRegistryTests
{
    [Fact]
    public void APluggedAllocatorsRegistryIsRebuiltFromItsArgument()
    {
        string spec = $"{Path.Combine(AppContext.BaseDirectory, "DmaVerify.Fuzz.TestTargets.dll")}:DmaVerify.Fuzz.TestTargets.WrappedAugmented";
        Assert.True(AllocatorSpec.TryParse(spec, out var parsed, out string error), error);
        using var plugged = PluggedImplementation.Load(parsed, new PluggedAllocatorOptions { InProcess = true });
        Assert.Equal(typeof(Implementations), plugged.Registry.Provider);
        Assert.Equal(plugged.Argument, plugged.Registry.ProviderArgument);

        var rebuilt = ImplementationRegistry.FromProvider(typeof(Implementations), plugged.Registry.ProviderArgument);
        Assert.Equal(["WrappedAugmented"], rebuilt.Names);
        var report = RefinementSession.Run(Presets.Get(Presets.X86Vtd),
            [new Map(0, new PhysAddr(0x1000_0000), 0x2000, DmaDirection.ToDevice)], rebuilt.Default.Create);
        Assert.True(report.Passed, report.Finding?.ToString());

        Assert.Equal(Implementations.Names, ImplementationRegistry.FromProvider(typeof(Implementations)).Names);
        Assert.Contains("has no public static RegistryFor(string) method",
            Assert.Throws<ArgumentException>(() => ImplementationRegistry.FromProvider(typeof(string), "x")).Message);
    }
}
