using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;
using DmaVerify.PlantedBugs;

namespace DmaVerify.Properties.Tests.PlantedBugs;

/// <summary>
/// A bug only a sequence of five ops reaches: when a device has three live mappings, unmapping
/// the middle one (#1) leaves its translation in place, so a later access through its old
/// address still reaches the buffer. Three maps, the unmap and the access: nothing shorter can
/// show it (the decorator keeps the stale pages; the real implementation unmaps).
/// </summary>
public sealed class MiddleUnmapKeepsTranslation(ISystemUnderTest inner) : Decorator(inner, BugName), IHiddenStateFingerprint
{
    public const string BugName = "middle-unmap-keeps-translation";
    private const ulong Page = 0x1000;
    /// <summary>(device, dma page) → phys page of translations that should be gone.</summary>
    private readonly Dictionary<(int Device, ulong Page), ulong> _stale = [];

    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new MiddleUnmapKeepsTranslation(factory(platform));

    public override SystemSnapshot Snapshot() => new DecoratorSnapshot<KeyValuePair<(int, ulong), ulong>[]>(Inner.Snapshot(), [.. _stale]);

    public override void Restore(SystemSnapshot snapshot)
    {
        var saved = DecoratorSnapshot<KeyValuePair<(int, ulong), ulong>[]>.Of(snapshot, Name);
        Inner.Restore(saved.Inner);
        _stale.Clear();
        foreach (var (key, phys) in saved.State) _stale[key] = phys;
    }

    public ulong HiddenStateFingerprint() => HiddenState.Of(_stale);

    public override Outcome Apply(Op op)
    {
        if (op is DeviceAccess { Address: RawRef raw } access && _stale.TryGetValue((access.Device, raw.Address & ~(Page - 1)), out ulong physPage))
        {
            var real = Inner.Apply(op);
            if (real is not Failed { Kind: DmaErrorKind.Fault }) return real;
            ulong offset = raw.Address & (Page - 1);
            return new Accessed(ValueList.Of(new AccessChunk(raw.Address, new PhysAddr(physPage + offset), Math.Min(access.Length, Page - offset))));
        }
        if (op is not Unmap { Handle: LiveRef { Index: 1 } } unmap) return Inner.Apply(op);
        var live = Inner.ExportState().MappingsOf(unmap.Device).ToList();
        var outcome = Inner.Apply(op);
        if (outcome.IsSuccess && live.Count >= 3)
            foreach (var part in live[1].Parts.Where(p => !p.IsBypass))
                for (ulong page = part.Dma & ~(Page - 1); page < part.Dma + part.Length; page += Page)
                    _stale[(unmap.Device, page)] = (part.Phys + (page - part.Dma)) & ~(Page - 1);
        return outcome;
    }
}
