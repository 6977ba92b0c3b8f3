using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Every change to the model's state goes through these helpers, which log how to undo
/// it, so a failing or diverging op is rolled back completely (INV-15 holds by construction) —
/// except the few effects Linux keeps when an op fails (<see cref="SetKeptOnFailure"/>), which a
/// failed op re-applies after its rollback and only a divergence undoes.</summary>
public sealed partial class ModelSystem
{
    private UndoLog _undo = new();

    private sealed class UndoLog
    {
        private readonly List<Action> _reverts = [];
        private readonly List<Action> _keptOnFailure = [];
        public void Add(Action revert) => _reverts.Add(revert);
        public void KeepOnFailure(Action redo) => _keptOnFailure.Add(redo);

        /// <summary>Undo everything: the state is as before the op (divergences, dry runs).</summary>
        public void Rollback()
        {
            for (int i = _reverts.Count - 1; i >= 0; i--) _reverts[i]();
            _reverts.Clear();
            _keptOnFailure.Clear();
        }

        /// <summary>Undo an op that failed, then redo the effects Linux keeps on that failure.</summary>
        public void RollbackFailure()
        {
            var kept = _keptOnFailure.ToList();
            Rollback();
            foreach (var redo in kept) redo();
        }
    }

    private UndoLog BeginOp() => _undo = new UndoLog();

    private void Set<T>(T oldValue, T newValue, Action<T> setter)
    {
        setter(newValue);
        _undo.Add(() => setter(oldValue));
    }

    /// <summary><see cref="Set"/> for an effect that Linux keeps even when the op then fails
    /// (pci_32bit_workaround is cleared by a failed 32-bit pass, reference notes §2.2 step 5).</summary>
    private void SetKeptOnFailure<T>(T oldValue, T newValue, Action<T> setter)
    {
        Set(oldValue, newValue, setter);
        _undo.KeepOnFailure(() => setter(newValue));
    }

    private void AddToList<T>(List<T> list, T item)
    {
        list.Add(item);
        _undo.Add(() => list.RemoveAt(list.LastIndexOf(item)));
    }

    private void RemoveFromList<T>(List<T> list, T item)
    {
        int index = list.IndexOf(item);
        if (index < 0) return;
        list.RemoveAt(index);
        _undo.Add(() => list.Insert(index, item));
    }

    /// <summary>Installs a leaf with the permissions its format can encode (one rule for every
    /// caller: see <see cref="DmaRules.LeafPermissions"/>).</summary>
    private void AddLeaf(DomainState domain, Leaf leaf)
    {
        leaf = leaf with { Prot = DmaRules.LeafPermissions(domain.Format.Format, leaf.Prot) };
        domain.Leaves.Add(leaf.Iova, leaf);
        _undo.Add(() => domain.Leaves.Remove(leaf.Iova));
    }

    private void RemoveLeaf(DomainState domain, Leaf leaf)
    {
        domain.Leaves.Remove(leaf.Iova);
        _undo.Add(() => domain.Leaves.Add(leaf.Iova, leaf));
    }

    private void AddDomain(DomainState domain)
    {
        State.Domains.Add(domain);
        _undo.Add(() => State.Domains.Remove(domain));
    }

    private void RememberUnmapped(int device, ulong handle)
    {
        if (!_unmappedHandles.TryGetValue(device, out var set)) _unmappedHandles[device] = set = [];
        if (set.Add(handle)) _undo.Add(() => set.Remove(handle));
    }

    private void ForgetUnmapped(int device, ulong handle)
    {
        if (_unmappedHandles.TryGetValue(device, out var set) && set.Remove(handle))
            _undo.Add(() => set.Add(handle));
    }

    private int NewMappingId()
    {
        int id = _nextMappingId++;
        _undo.Add(() => _nextMappingId = id);
        return id;
    }

    private int NewBounceId()
    {
        int id = _nextBounceId++;
        _undo.Add(() => _nextBounceId = id);
        return id;
    }

    /// <summary>Removes every leaf inside <paramref name="range"/> and returns them.</summary>
    private List<Leaf> ClearLeaves(DomainState domain, AddrRange range)
    {
        var removed = LeavesOverlapping(domain, range).ToList();
        foreach (var leaf in removed) RemoveLeaf(domain, leaf);
        return removed;
    }

    /// <summary>Drops the IOTLB entries of a domain that overlap <paramref name="range"/> (all when null).</summary>
    private void InvalidateIotlb(DomainState domain, AddrRange? range)
    {
        foreach (var entry in domain.Iotlb.Where(e => range is null || e.Range.Overlaps(range.Value)).ToList())
            RemoveFromList(domain.Iotlb, entry);
    }

    /// <summary>Leaves overlapping a range, in IOVA order (binary search on the sorted keys).</summary>
    private static IEnumerable<Leaf> LeavesOverlapping(DomainState domain, AddrRange range)
    {
        var keys = domain.Leaves.Keys;
        int lo = 0, hi = keys.Count - 1, first = keys.Count;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (keys[mid] <= range.Start) { first = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (first == keys.Count) first = 0;
        for (int i = first; i < keys.Count; i++)
        {
            var leaf = domain.Leaves.Values[i];
            if (leaf.Iova > range.Last) yield break;
            if (leaf.Range.Overlaps(range)) yield return leaf;
        }
    }

    private static Leaf? LeafAt(DomainState domain, ulong iova)
    {
        foreach (var leaf in LeavesOverlapping(domain, new AddrRange(iova, iova)))
            return leaf;
        return null;
    }
}
