using DmaVerify.Contracts;

namespace DmaVerify.Tests.Common;

/// <summary>Every preset and variant by name, as theory data: the tests that run on each platform.</summary>
public static class PresetData
{
    public static TheoryData<string> All() => [.. Presets.Names.Concat(Presets.Variants)];
}
