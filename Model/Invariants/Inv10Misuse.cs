using DmaVerify.Contracts;

namespace DmaVerify.Model;

public static partial class InvariantChecker
{
    /// <summary>The dma-debug misuse classes (DmaErrorKind InvalidDmaAddress … SgCountMismatch).</summary>
    internal static bool IsMisuseKind(DmaErrorKind kind) => kind is DmaErrorKind.InvalidDmaAddress or
        DmaErrorKind.UnknownHandle or DmaErrorKind.DoubleUnmap or DmaErrorKind.WrongSize or
        DmaErrorKind.WrongDirection or DmaErrorKind.WrongFunction or DmaErrorKind.SgCountMismatch;

    /// <summary>The parts of an unmap-like op that INV-10 judges.</summary>
    private sealed record UnmapRequest(string Name, int Device, AddressRef Handle, MappingKind Kind,
        ulong? Size, int? Nents, DmaDirection? Direction);

    private static UnmapRequest? AsUnmap(Op op) => op switch
    {
        Unmap u => new("unmap", u.Device, u.Handle, MappingKind.Single, u.Length, null, u.Direction),
        UnmapSg u => new("unmap_sg", u.Device, u.Handle, MappingKind.Sg, null, u.Nents, u.Direction),
        FreeCoherent f => new("free_coherent", f.Device, f.Handle, MappingKind.Coherent, f.Size, null, null),
        UnmapResource u => new("unmap_resource", u.Device, u.Handle, MappingKind.Resource, u.Length, null, u.Direction),
        _ => null,
    };

    /// <summary>The misuse an unmap of <paramref name="m"/> would be, checked in dma-debug's
    /// order (function, size, sg count, direction); null when it matches.</summary>
    private static DmaErrorKind? MisuseAgainst(UnmapRequest u, DmaMapping m)
    {
        if (u.Kind != m.Kind) return DmaErrorKind.WrongFunction;
        if (u.Size is ulong size && size != m.Size) return DmaErrorKind.WrongSize;
        if (u.Nents is int nents && nents != m.Nents) return DmaErrorKind.SgCountMismatch;
        if (u.Direction is DmaDirection dir && dir != m.Direction) return DmaErrorKind.WrongDirection;
        return null;
    }

    /// <summary>
    /// INV-10: misuse is detected, not absorbed. An unmap/free whose handle does not name a
    /// matching live mapping of the device must fail with its own kind and change nothing;
    /// a matching one must not be reported as misuse, and on success removes exactly one
    /// matching mapping. Handles: a LiveRef is the device's n-th live mapping in `before` plus
    /// the offset; a LiveRef past the device's mappings is accepted as UnknownHandle,
    /// DoubleUnmap or InvalidArgument. All-ones is InvalidDmaAddress; an address no live
    /// mapping of the device has is UnknownHandle or DoubleUnmap (dma-debug cannot tell them
    /// apart); when several live mappings share the address, the failure may be the misuse
    /// against any of them.
    /// </summary>
    private static void CheckMisuse(CheckContext before, CheckContext after, Op op, Outcome outcome, List<Violation> output)
    {
        if (AsUnmap(op) is not { } u) return;
        var allowed = new HashSet<DmaErrorKind>();
        string reason;
        IReadOnlyList<DmaMapping> matching = [];
        ulong address = 0;

        if (before.Device(u.Device) is null)
        {
            allowed.Add(DmaErrorKind.UnknownDevice);
            reason = $"device {u.Device} does not exist";
        }
        else if (!TryResolveHandle(before, u.Device, u.Handle, out address))
        {
            allowed.UnionWith([DmaErrorKind.UnknownHandle, DmaErrorKind.DoubleUnmap, DmaErrorKind.InvalidArgument]);
            reason = $"handle {u.Handle} names no live mapping of device {u.Device}";
        }
        else if (address == DmaAddr.MappingError.Value)
        {
            allowed.Add(DmaErrorKind.InvalidDmaAddress);
            reason = $"handle {u.Handle} is DMA_MAPPING_ERROR";
        }
        else
        {
            var candidates = before.MappingsOf(u.Device).Where(m => m.Dma.Value == address).ToList();
            matching = candidates.Where(m => MisuseAgainst(u, m) is null).ToList();
            if (candidates.Count == 0)
            {
                allowed.UnionWith([DmaErrorKind.UnknownHandle, DmaErrorKind.DoubleUnmap]);
                reason = $"device {u.Device} has no live mapping at {Hex.Format(address)}";
            }
            else if (matching.Count == 0)
            {
                foreach (var m in candidates) allowed.Add(MisuseAgainst(u, m)!.Value);
                var m0 = candidates[0];
                reason = $"the live mapping {m0.Id} at {Hex.Format(address)} is a {m0.Kind} mapping of {Hex.Format(m0.Size)} bytes, " +
                         $"nents {m0.Nents}, {m0.Direction}";
            }
            else reason = "";
        }

        string opText = $"{u.Name} dev={u.Device} handle={u.Handle}";
        if (allowed.Count > 0)
        {
            string kinds = string.Join(" or ", allowed.Order());
            if (outcome is not Failed failed)
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} succeeded, but {reason}: expected {kinds}"));
            else if (!allowed.Contains(failed.Kind))
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} failed with {failed.Kind}, but {reason}: expected {kinds}"));
            var diffs = StateDiff.Differences(before.State, after.State);
            if (diffs.Count > 0)
                output.Add(new Violation(Inv10, u.Device, null, $"{opText} is misuse ({reason}) but changed the state: {string.Join("; ", diffs.Take(8))}"));
            return;
        }

        // A correct unmap of one of `matching`.
        if (outcome is Failed wrong)
        {
            if (IsMisuseKind(wrong.Kind))
                output.Add(new Violation(Inv10, u.Device, null,
                    $"{opText} matches live mapping {matching[0].Id} but was refused as {wrong.Kind}"));
            return;
        }
        var afterIds = after.Mappings.Select(m => m.Id).ToHashSet();
        var beforeIds = before.Mappings.Select(m => m.Id).ToHashSet();
        var removed = before.Mappings.Where(m => !afterIds.Contains(m.Id)).ToList();
        var added = after.Mappings.Where(m => !beforeIds.Contains(m.Id)).ToList();
        if (removed.Count != 1 || !matching.Contains(removed[0]) || added.Count > 0)
            output.Add(new Violation(Inv10, u.Device, null,
                $"{opText} should remove exactly mapping {string.Join(" or ", matching.Select(m => m.Id))}, but removed [{string.Join(", ", removed.Select(m => m.Id))}]" +
                (added.Count > 0 ? $" and added [{string.Join(", ", added.Select(m => m.Id))}]" : "")));
    }

    /// <summary>Resolves an address reference against the device's live mappings in a state
    /// (the n-th mapping of the device in creation order, plus the offset).</summary>
    internal static bool TryResolveHandle(CheckContext state, int device, AddressRef? handle, out ulong address)
    {
        address = 0;
        switch (handle)
        {
            case RawRef raw:
                address = raw.Address;
                return true;
            case LiveRef live:
                var mappings = state.MappingsOf(device);
                if (live.Index < 0 || live.Index >= mappings.Count) return false;
                address = unchecked(mappings[live.Index].Dma.Value + live.Offset);
                return true;
            default:
                return false;
        }
    }
}
