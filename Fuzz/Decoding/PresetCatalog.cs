using System.Collections.Concurrent;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Decoding;

/// <summary>Platforms and their anchors built once per preset name (presets are immutable
/// records, so one instance serves every input).</summary>
public static class PresetCatalog
{
    private static readonly ConcurrentDictionary<string, (PlatformConfig Platform, AddressAnchors Anchors)> Cache = new(StringComparer.Ordinal);

    public static (PlatformConfig Platform, AddressAnchors Anchors) Get(string preset) =>
        Cache.GetOrAdd(preset, name =>
        {
            var platform = Presets.Get(name);
            return (platform, new AddressAnchors(platform));
        });
}
