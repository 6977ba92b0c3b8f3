using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>
/// The choices Linux leaves free: which IOVA range, which bounce slot. In Apply mode the model
/// takes its default; in Check mode it takes the implementation's choice (read off its outcome
/// by the op) if the specification allows it, and when the implementation failed for lack of
/// space it checks that nothing would have fitted (INV-11).
/// </summary>
public sealed partial class ModelSystem
{
    private const ulong FourGiBLast = 0xFFFF_FFFF;

    /// <summary>True while a multi-allocation op is placed the model's way so that an
    /// exhaustion failure is judged once, at the end (<see cref="JudgingExhaustionAtTheEnd"/>).</summary>
    private bool _exhaustionDeferred;

    private bool ProposalIsExhausted(DmaErrorKind kind) => !_exhaustionDeferred && _proposed is Failed f && f.Kind == kind;

    private ulong? ProposedDma => _proposed is Mapped m ? m.Dma.Value : null;
    private ulong? ProposedBounce => _proposed is Mapped { Bounce: PhysAddr b } ? b.Value : null;

    /// <summary>dma-iommu's iommu_dma_alloc_iova: PCI devices try below 4 GiB first until that
    /// fails once; then the full limit.</summary>
    private AddrRange? ChooseIova(int deviceId, int domainId, ulong bytes, ulong limit, ulong boundary, ulong? proposedStart)
    {
        var domain = Dom(domainId);
        var full = IovaSpace.RequestFor(domain.Policy, domain.Granule, bytes, limit, boundary);
        bool try32 = domain.Policy == IovaPolicy.SizeAligned && Dev(deviceId).Pci32First && limit > FourGiBLast;
        if (!try32) return ChooseIova(domain, full, proposedStart);

        var low = full with { Limit = FourGiBLast };
        var lowFit = Placement.DefaultFit(domain, low);
        if (_proposed is null || (proposedStart is null && !ProposalIsExhausted(DmaErrorKind.OutOfIova)))
        {
            if (lowFit is not null) return lowFit;
            ClearPci32FirstForGood(deviceId);
            return Placement.DefaultFit(domain, full);
        }
        if (ProposalIsExhausted(DmaErrorKind.OutOfIova))
        {
            var fit = lowFit ?? Placement.DefaultFit(domain, full);
            if (fit is not null)
                throw Diverge("INV-11", $"the implementation ran out of IOVA space, but {fit} fits {full} in domain {domain.Id}");
            ClearPci32FirstForGood(deviceId); // its 32-bit pass failed too
            return null;
        }
        var range = ProposedRange(proposedStart!.Value, full);
        if (Placement.Judge(domain, low, range) is null) return range;
        if (Placement.Judge(domain, full, range) is IovaSpace.Rejection rejection)
            throw Diverge(rejection.Invariant, $"IOVA {range} in domain {domain.Id}: {rejection.Reason}");
        if (lowFit is not null && Options.StrictPci32First)
            throw Diverge("INV-11", $"device {deviceId} is still 32-bit-first and {lowFit} fits below 4 GiB, but the implementation chose {range}");
        ClearPci32FirstForGood(deviceId);
        return range;
    }

    private AddrRange? ChooseIova(ModelDomain domain, IovaSpace.Request request, ulong? proposedStart)
    {
        if (ProposalIsExhausted(DmaErrorKind.OutOfIova))
        {
            if (Placement.DefaultFit(domain, request) is AddrRange fit)
                throw Diverge("INV-11", $"the implementation ran out of IOVA space, but {fit} fits {request} in domain {domain.Id}");
            return null;
        }
        if (_proposed is not null && proposedStart is ulong start)
        {
            var range = ProposedRange(start, request);
            if (Placement.Judge(domain, request, range) is IovaSpace.Rejection rejection)
                throw Diverge(rejection.Invariant, $"IOVA {range} in domain {domain.Id}: {rejection.Reason}");
            return range;
        }
        return Placement.DefaultFit(domain, request);
    }

    private static AddrRange ProposedRange(ulong start, IovaSpace.Request request) =>
        AddrRange.TryFromLength(start, request.Bytes, out var range)
            ? range
            : throw Diverge("INV-05", $"an IOVA range of {Hex.Format(request.Bytes)} bytes at {Hex.Format(start)} wraps past 2^64");

    /// <summary>A swiotlb span for a bounce; null when none fits (the caller tells NotCapable
    /// from NoBounceBuffer).</summary>
    private AddrRange? ChooseBounce(AddrRange pool, Swiotlb.Request request, ulong? proposedStart)
    {
        if (ProposalIsExhausted(DmaErrorKind.NoBounceBuffer) || ProposalIsExhausted(DmaErrorKind.NotCapable))
        {
            if (Placement.LowestBounce(_state, pool, request) is AddrRange fit)
                throw Diverge("INV-11", $"the implementation found no bounce slot, but {fit} fits in the pool {pool}");
            return null;
        }
        if (_proposed is not null && proposedStart is ulong start)
        {
            if (!AddrRange.TryFromLength(start, request.Bytes, out var span))
                throw Diverge("REFINE", $"a bounce slot at {Hex.Format(start)} wraps past 2^64");
            if (Placement.WhyBounceNotAllowed(_state, pool, request, span) is string why)
                throw Diverge(why.Contains("overlaps") ? "INV-01" : "REFINE", why);
            return span;
        }
        return Placement.LowestBounce(_state, pool, request);
    }
}
