using DmaVerify.Contracts;

namespace DmaVerify.PlantedBugs;

/// <summary>
/// A missing IOTLB invalidation on unmap: translations the device used stay cached after the
/// unmap, so a later access through the stale IOVA still reaches the old buffer, until a flush.
/// (The decorator keeps its own cache of the walks it saw; the real implementation unmaps.)
/// </summary>
public sealed class MissingUnmapInvalidation(ISystemUnderTest inner) : Decorator(inner, "missing-unmap-invalidation"), IHiddenStateFingerprint
{
    private const ulong Page = 0x1000;
    /// <summary>(device, dma page) → phys page, for every page a device access went through.</summary>
    private readonly Dictionary<(int Device, ulong Page), ulong> _walked = [];
    private readonly Dictionary<(int Device, ulong Page), ulong> _stale = [];

    public static Func<PlatformConfig, ISystemUnderTest> Over(Func<PlatformConfig, ISystemUnderTest> factory) =>
        platform => new MissingUnmapInvalidation(factory(platform));

    private sealed record Walks(KeyValuePair<(int, ulong), ulong>[] Walked, KeyValuePair<(int, ulong), ulong>[] Stale);

    public override SystemSnapshot Snapshot() => new DecoratorSnapshot<Walks>(Inner.Snapshot(), new Walks([.. _walked], [.. _stale]));

    public override void Restore(SystemSnapshot snapshot)
    {
        var saved = DecoratorSnapshot<Walks>.Of(snapshot, Name);
        Inner.Restore(saved.Inner);
        _walked.Clear();
        _stale.Clear();
        foreach (var (key, phys) in saved.State.Walked) _walked[key] = phys;
        foreach (var (key, phys) in saved.State.Stale) _stale[key] = phys;
    }

    /// <summary>The cached walks decide later accesses and the model does not hold them.</summary>
    public ulong HiddenStateFingerprint() => HiddenState.Of(_walked) * 31 + HiddenState.Of(_stale);

    public override Outcome Apply(Op op)
    {
        switch (op)
        {
            case DeviceAccess access:
            {
                var outcome = Inner.Apply(access);
                if (outcome is Accessed accessed)
                    foreach (var chunk in accessed.Chunks)
                        _walked[(access.Device, chunk.Dma & ~(Page - 1))] = chunk.Phys.Value & ~(Page - 1);
                else if (outcome is Failed { Kind: DmaErrorKind.Fault } && access.Address is RawRef raw
                         && _stale.TryGetValue((access.Device, raw.Address & ~(Page - 1)), out ulong physPage))
                {
                    ulong offset = raw.Address & (Page - 1);
                    ulong length = Math.Min(access.Length, Page - offset);
                    return new Accessed(ValueList.Of(new AccessChunk(raw.Address, new PhysAddr(physPage + offset), length)));
                }
                return outcome;
            }
            case Unmap or UnmapSg or FreeCoherent or UnmapResource:
            {
                int device = op switch
                {
                    Unmap u => u.Device,
                    UnmapSg u => u.Device,
                    FreeCoherent u => u.Device,
                    _ => ((UnmapResource)op).Device,
                };
                var before = Inner.ExportState().MappingsOf(device).ToList();
                var outcome = Inner.Apply(op);
                if (outcome.IsSuccess)
                {
                    var after = Inner.ExportState().MappingsOf(device).Select(m => m.Id).ToHashSet();
                    foreach (var gone in before.Where(m => !after.Contains(m.Id)))
                        foreach (var part in gone.Parts.Where(p => !p.IsBypass))
                            for (ulong page = part.Dma & ~(Page - 1); page < part.Dma + part.Length; page += Page)
                                if (_walked.Remove((device, page), out ulong phys))
                                    _stale[(device, page)] = phys;
                }
                return outcome;
            }
            case Flush:
                _stale.Clear();
                return Inner.Apply(op);
            default:
                return Inner.Apply(op);
        }
    }
}
