using DmaVerify.Contracts;
using DmaVerify.Fuzz.Decoding;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Targets;

/// <summary>How a scenario target judges an input.</summary>
public sealed record ScenarioTargetOptions
{
    /// <summary>The implementation checked against the model (a name in the registry the
    /// target is made from); null = the registry's default.</summary>
    public string? Implementation { get; init; }

    /// <summary>Check the implementation's state against every invariant after every n-th step;
    /// 0 = once, after the last op. Every step is thorough and slower (an export per step).</summary>
    public int InvariantEvery { get; init; }
}

/// <summary>
/// A fuzz target over the DMA/IOMMU systems: decodes the input (<see cref="OpDecoder"/>), runs the
/// ops on the model and the implementation side by side (<see cref="RefinementSession"/>), checks
/// the invariants, and throws <see cref="FuzzFinding"/> at the first problem. One target per
/// preset, and "mixed", whose header byte picks the preset.
/// </summary>
public sealed class ScenarioTarget : IFuzzTarget
{
    private readonly string? _preset;
    private readonly IReadOnlyList<string> _mixedPresets;
    private readonly Func<PlatformConfig, ISystemUnderTest> _implementation;
    private readonly RefinementOptions _refinement;

    public ScenarioTarget(string name, string? preset, IReadOnlyList<string> mixedPresets, Func<PlatformConfig, ISystemUnderTest> implementation, int invariantEvery,
        ModelOptions? model = null)
    {
        Name = name;
        _preset = preset;
        _mixedPresets = mixedPresets;
        _implementation = implementation;
        _refinement = new RefinementOptions { InvariantEvery = invariantEvery, Model = model ?? new ModelOptions() };
    }

    public string Name { get; }

    /// <summary>The preset this target fixes; null for the mixed target.</summary>
    public string? Preset => _preset;

    public DecodedScenario Decode(ReadOnlySpan<byte> data) => OpDecoder.Decode(data, _preset, _mixedPresets);

    public void Run(ReadOnlySpan<byte> data)
    {
        var decoded = Decode(data);
        var session = Execute(decoded);
        if (session.Finding is { } finding)
            throw new FuzzFinding(Name, finding, ScenarioOf(decoded, session));
    }

    /// <summary>Runs a decoded scenario to its end or its first finding; what replay shows.
    /// Both systems are built once per (preset, override) and restored for every input.</summary>
    public RefinementSession Execute(DecodedScenario decoded)
    {
        var session = Prepared(decoded).Start(_refinement);
        if (session.Failed) return session;
        foreach (var op in decoded.Ops)
        {
            var finding = session.Step(op);
            var last = session.Steps[^1];
            if (last.Expected is { } outcome) OutcomeFeatures.Record(op, outcome);
            if (finding is not null) return session;
        }
        session.CheckInvariants();
        return session;
    }

    /// <summary>Prepared systems per (preset, device override): an input's platform is rebuilt
    /// by the decoder, but equal inputs share one prepared pair. Bounded: the least recently
    /// used pair goes when the cache is full.</summary>
    private PreparedSystems Prepared(DecodedScenario decoded)
    {
        var key = (decoded.Preset, decoded.Overrides.Count == 0 ? null : decoded.Overrides[0]);
        if (_prepared.TryGetValue(key, out var node))
        {
            _recent.Remove(node);
            _recent.AddFirst(node);
            return node.Value.Systems;
        }
        var systems = new PreparedSystems(decoded.Platform, _implementation, _refinement.Model);
        node = _recent.AddFirst((key, systems));
        _prepared[key] = node;
        if (_recent.Count > PreparedCapacity)
        {
            _prepared.Remove(_recent.Last!.Value.Key);
            _recent.RemoveLast();
        }
        return systems;
    }

    private const int PreparedCapacity = 64;
    private readonly Dictionary<(string, DeviceConfig?), LinkedListNode<((string, DeviceConfig?) Key, PreparedSystems Systems)>> _prepared = [];
    private readonly LinkedList<((string, DeviceConfig?) Key, PreparedSystems Systems)> _recent = new();

    /// <summary>The ops up to the failing one, with the preset and override of the input.</summary>
    private static Scenario ScenarioOf(DecodedScenario decoded, RefinementSession session) =>
        new(decoded.Preset, decoded.Overrides, session.Steps.Select(s => new ScenarioStep(s.Op)).ToValueList());
}
