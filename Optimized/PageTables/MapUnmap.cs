using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>Map and unmap: the one algorithm every format shares.</summary>
public sealed partial class PageTable<TFormat>
{
    public MapResult Map(ulong iova, ulong pa, ulong size, Prot prot)
    {
        if ((prot & (Prot.Read | Prot.Write)) == 0) return new MapResult(DmaErrorKind.InvalidArgument, iova);
        if (size == 0) return new MapResult(DmaErrorKind.InvalidArgument, iova);
        if (((iova | pa | size) & (_granule - 1)) != 0) return new MapResult(DmaErrorKind.Unaligned, iova);
        if (size - 1 > ulong.MaxValue - iova || size - 1 > ulong.MaxValue - pa) return new MapResult(DmaErrorKind.Overflow, iova);
        if (iova < _f.IovaBase || iova + (size - 1) > _f.IovaLast) return new MapResult(DmaErrorKind.OutOfRange, iova);
        if (pa + (size - 1) > _f.PaLast) return new MapResult(DmaErrorKind.OutOfRange, iova);
        if (!_f.PaAllowed(pa, size)) return new MapResult(DmaErrorKind.InvalidArgument, iova);

        int startLevels = _levels;
        ulong done = 0;
        while (done < size)
        {
            ulong page = PageSizeRule.Choose(_f.PageSizes, iova + done, pa + done, size - done);
            DmaErrorKind? error = page == 0 ? DmaErrorKind.InvalidArgument : MapPage(iova + done, pa + done, page, prot);
            if (error is not null)
            {
                // Unroll: nothing of this request may stay mapped (INV-15).
                if (done > 0 && _plant != OptimizedPlant.FailedMapKeepsLeaves) UnmapRange(iova, done, null);
                ShrinkTo(startLevels);
                return new MapResult(error, iova + done);
            }
            done += page;
        }
        return MapResult.Ok;
    }

    public ulong Unmap(ulong iova, ulong size, TableFreeList? deferFree = null)
    {
        if (size == 0 || ((iova | size) & (_granule - 1)) != 0) return 0;
        return UnmapRange(iova, size, deferFree);
    }

    /// <summary>One leaf of <paramref name="size"/> (a page size of the format) at iova → pa.</summary>
    private DmaErrorKind? MapPage(ulong iova, ulong pa, ulong size, Prot prot)
    {
        int leafLevel = _f.LeafLevel(size);
        if (leafLevel < 0) return DmaErrorKind.InvalidArgument;
        if (leafLevel == 0 && TryMapInKnownLeafTable(iova, pa, size, prot, out var fast)) return fast;
        if (EnsureLevels(iova + (size - 1), leafLevel) is DmaErrorKind growError) return growError;

        TablePage table = _root;
        for (int level = _levels - 1; level > leafLevel; level--)
        {
            int index = _f.LevelIndex(iova, level, _levels);
            _pathTable[level] = table;
            _pathIndex[level] = index;
            ulong pte = table[index];
            switch (_f.Classify(pte, level))
            {
                case PteKind.Table:
                    table = Resolve(pte, level);
                    break;
                case PteKind.Leaf:
                    Prune(level, iova, null);
                    return DmaErrorKind.AddressInUse;
                default:
                    var child = NewTable(level - 1, _levels);
                    if (child is null)
                    {
                        Prune(level, iova, null);
                        return DmaErrorKind.OutOfMemory;
                    }
                    table.Fill(index, _f.EncodeTable(child.Pa, level));
                    if (level == 1) _leafArray?.Set(iova, child);
                    table = child;
                    break;
            }
        }

        int first = _f.LevelIndex(iova, leafLevel, _levels);
        _pathTable[leafLevel] = table;
        _pathIndex[leafLevel] = first;
        int shift = _f.LevelShift(leafLevel);
        int slots = (int)(size >> shift);
        for (int s = 0; s < slots; s++)
        {
            ulong pte = table[first + s];
            PteKind kind = _f.Classify(pte, leafLevel);
            if (kind == PteKind.Leaf || (kind == PteKind.Table && Resolve(pte, leafLevel).Used != 0))
            {
                Prune(leafLevel, iova, null);
                return DmaErrorKind.AddressInUse;
            }
        }
        ulong leaf = Encoded(pa, size, leafLevel, prot);
        for (int s = 0; s < slots; s++)
        {
            ulong pte = table[first + s];
            if (_f.Classify(pte, leafLevel) == PteKind.Table)
            {
                // A block over an empty table: the table goes, the slot stays in use.
                if (leafLevel == 1) _leafArray?.Clear(iova + ((ulong)s << shift));
                FreeTable(Resolve(pte, leafLevel), null);
                table.Replace(first + s, leaf);
            }
            else table.Fill(first + s, leaf);
        }
        return null;
    }

    /// <summary>The format's leaf PTE, with a planted slip of the catalog when one is set.</summary>
    private ulong Encoded(ulong pa, ulong size, int leafLevel, Prot prot)
    {
        ulong leaf = _f.EncodeLeaf(pa, size, leafLevel, prot);
        return _plant switch
        {
            OptimizedPlant.VtdSuperpagePsBitLost when _f.Kind == PageTableFormatKind.VtdSecondStage && leafLevel > 0 => leaf & ~VtdSsPte.PageSize,
            OptimizedPlant.AmdLargePageWriteBitLost when _f.Kind == PageTableFormatKind.AmdV1 && size > _granule => leaf & ~AmdV1Pte.IoWrite,
            OptimizedPlant.GartPteHighAddressBitsLost when _f.Kind == PageTableFormatKind.Gart => leaf & ~(ulong)GartPte.HighAddressField,
            OptimizedPlant.TceBidirectionalWriteBitLost when _f.Kind == PageTableFormatKind.Tce && (prot & (Prot.Read | Prot.Write)) == (Prot.Read | Prot.Write) => leaf & ~TcePte.Write,
            _ => leaf,
        };
    }

    /// <summary>Leaf-page array fast path: a level-0 leaf whose table is already known.</summary>
    private bool TryMapInKnownLeafTable(ulong iova, ulong pa, ulong size, Prot prot, out DmaErrorKind? result)
    {
        result = null;
        var table = _leafArray?.Find(iova);
        if (table is null) return false;
        int first = _f.LevelIndex(iova, 0, _levels);
        int slots = (int)(size >> _f.LevelShift(0));
        for (int s = 0; s < slots; s++)
            if (_f.Classify(table[first + s], 0) != PteKind.Empty)
            {
                result = DmaErrorKind.AddressInUse;
                return true;
            }
        ulong leaf = Encoded(pa, size, 0, prot);
        for (int s = 0; s < slots; s++) table.Fill(first + s, leaf);
        return true;
    }

    /// <summary>The model's unmap loop: remove the leaf containing the cursor, whole; count its
    /// size (saturating); continue after it; stop at a hole or at the end of the address space.</summary>
    private ulong UnmapRange(ulong iova, ulong size, TableFreeList? deferFree)
    {
        ulong unmapped = 0, cursor = iova;
        ulong covered = CoveredLast(_levels);
        while (unmapped < size)
        {
            if (cursor < _f.IovaBase || cursor > covered) break;
            ulong removed = UnmapLeafAt(cursor, deferFree, out ulong leafIova);
            if (removed == 0) break;
            unmapped = removed > ulong.MaxValue - unmapped ? ulong.MaxValue : unmapped + removed;
            ulong leafLast = leafIova + (removed - 1);
            if (leafLast == ulong.MaxValue) break;
            cursor = leafLast + 1;
        }
        return unmapped;
    }

    /// <summary>Clears every slot of the leaf containing <paramref name="cursor"/> and frees the
    /// tables that became empty. Returns the leaf's size, 0 for a hole.</summary>
    private ulong UnmapLeafAt(ulong cursor, TableFreeList? deferFree, out ulong leafIova)
    {
        leafIova = 0;
        var known = _leafArray?.Find(cursor);
        if (known is not null)
        {
            int index = _f.LevelIndex(cursor, 0, _levels);
            ulong pte = known[index];
            if (_f.Classify(pte, 0) != PteKind.Leaf) return 0;
            ulong size = _f.LeafSize(pte, 0);
            int slots = (int)(size >> _f.LevelShift(0));
            if (known.Used > slots)
            {
                // The table stays in use, so no parent needs touching: O(1).
                int first = index & ~(slots - 1);
                for (int s = 0; s < slots; s++) known.Clear(first + s, _f.EmptyEntry);
                leafIova = cursor & ~(size - 1);
                return size;
            }
        }

        TablePage table = _root;
        for (int level = _levels - 1; level >= 0; level--)
        {
            int index = _f.LevelIndex(cursor, level, _levels);
            _pathTable[level] = table;
            _pathIndex[level] = index;
            ulong pte = table[index];
            PteKind kind = _f.Classify(pte, level);
            if (kind == PteKind.Empty) return 0;
            if (kind == PteKind.Table)
            {
                if (level == 0) return 0;
                table = Resolve(pte, level);
                continue;
            }
            ulong size = _f.LeafSize(pte, level);
            int slots = (int)(size >> _f.LevelShift(level));
            int first = index & ~(slots - 1);
            for (int s = 0; s < slots; s++) table.Clear(first + s, _f.EmptyEntry);
            leafIova = cursor & ~(size - 1);
            if (_plant != OptimizedPlant.EmptyTablesNotFreed) Prune(level, cursor, deferFree);
            return size;
        }
        return 0;
    }
}
