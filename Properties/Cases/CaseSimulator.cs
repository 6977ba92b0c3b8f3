using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>
/// Runs a case's ops on the reference model (its default choices) and keeps track of which
/// step created each live mapping, so a <see cref="CaseOp.Target"/> can be turned into the
/// <see cref="LiveRef"/> index it has now. Generation and shrinking both go through here, which
/// is what keeps every shrunk sequence valid: handles always name the mapping they were meant to.
/// </summary>
public sealed class CaseSimulator
{
    private readonly ModelSystem _model;
    private readonly Dictionary<int, int> _creatorStep = [];
    private readonly Dictionary<int, int> _madeBy = [];
    private readonly List<DmaMapping> _recentlyUnmapped = [];

    /// <summary>The last few mappings unmapped (newest last): what stale-handle misuse and
    /// use-after-unmap accesses aim at.</summary>
    public IReadOnlyList<DmaMapping> RecentlyUnmapped => _recentlyUnmapped;

    /// <summary>The device whose mapping went last (-1 before any): where a by-device free order
    /// takes its next turn from.</summary>
    public int LastUnmappedDevice { get; private set; } = -1;

    public CaseSimulator(PlatformConfig platform) => _model = new ModelSystem(platform);

    /// <summary>The model's state now (persistent: O(1) to read, lookups O(log n)).</summary>
    public ModelState View => _model.View;

    /// <summary>The model's state in the exported shape (O(state) to build: for tests and reports).</summary>
    public SystemState State => _model.State;
    public PlatformConfig Platform => _model.Platform;

    /// <summary>The step that created a live mapping.</summary>
    public int CreatorOf(DmaMapping mapping) => _creatorStep.TryGetValue(mapping.Id, out int step) ? step : -1;

    /// <summary>The live mapping a step created, if it is still live.</summary>
    public DmaMapping? MappingMadeBy(int step) =>
        _madeBy.TryGetValue(step, out int id) ? View.Mapping(id) : null;

    /// <summary>The op with its handle pointing at the target's mapping as of now; null when the
    /// target mapping is gone or belongs to another device (the op has lost its meaning).</summary>
    public Op? Resolve(CaseOp op)
    {
        if (op.Target is not int target) return op.Op;
        var mapping = MappingMadeBy(target);
        if (mapping is null || DeviceOf(op.Op) != mapping.Device) return null;
        return WithIndex(op.Op, View.LiveIndexOf(mapping));
    }

    /// <summary>Runs an op on the model as step <paramref name="step"/> and records the mappings it created.</summary>
    public Outcome Apply(Op op, int step)
    {
        var before = View;
        var outcome = _model.Apply(op);
        if (!outcome.IsSuccess) return outcome;
        foreach (int id in _model.Footprint.MappingsRemoved)
            if (before.Mapping(id) is { } gone)
            {
                _recentlyUnmapped.Add(gone);
                LastUnmappedDevice = gone.Device;
            }
        if (_recentlyUnmapped.Count > 8) _recentlyUnmapped.RemoveRange(0, _recentlyUnmapped.Count - 8);
        foreach (int id in _model.Footprint.MappingsAdded)
            if (_creatorStep.TryAdd(id, step)) _madeBy.TryAdd(step, id);
        return outcome;
    }

    /// <summary>Re-simulates a case whose ops were edited (removed, arguments changed): resolves
    /// every handle again, drops ops whose target is gone, renumbers the targets.</summary>
    public static PropertyCase Rebuild(PropertyCase edited)
    {
        var sim = new CaseSimulator(edited.BuildPlatform());
        var ops = new List<CaseOp>(edited.Ops.Count);
        var newIndex = new Dictionary<int, int>();
        for (int i = 0; i < edited.Ops.Count; i++)
        {
            var op = edited.Ops[i];
            int? target = null;
            if (op.Target is int t)
            {
                if (!newIndex.TryGetValue(t, out int mapped)) continue;
                target = mapped;
            }
            var resolved = sim.Resolve(op with { Target = target });
            if (resolved is null) continue;
            newIndex[i] = ops.Count;
            sim.Apply(resolved, ops.Count);
            ops.Add(new CaseOp(resolved, target));
        }
        return edited with { Ops = ops.ToValueList() };
    }

    public static int DeviceOf(Op op) => op switch
    {
        Unmap o => o.Device,
        UnmapSg o => o.Device,
        FreeCoherent o => o.Device,
        UnmapResource o => o.Device,
        DeviceAccess o => o.Device,
        Map o => o.Device,
        MapSg o => o.Device,
        AllocCoherent o => o.Device,
        MapResource o => o.Device,
        SetupMsi o => o.Device,
        SetMask o => o.Device,
        Attach o => o.Device,
        SetDomainType o => o.Device,
        _ => -1,
    };

    private static ulong OffsetOf(AddressRef r) => r is LiveRef l ? l.Offset : 0;

    private static Op WithIndex(Op op, int index) => op switch
    {
        Unmap o => o with { Handle = new LiveRef(index, OffsetOf(o.Handle)) },
        UnmapSg o => o with { Handle = new LiveRef(index, OffsetOf(o.Handle)) },
        FreeCoherent o => o with { Handle = new LiveRef(index, OffsetOf(o.Handle)) },
        UnmapResource o => o with { Handle = new LiveRef(index, OffsetOf(o.Handle)) },
        DeviceAccess o => o with { Address = new LiveRef(index, OffsetOf(o.Address)) },
        _ => op,
    };
}
