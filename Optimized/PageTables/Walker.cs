using DmaVerify.Contracts;

namespace DmaVerify.Optimized.PageTables;

/// <summary>Read-only walks: translation, leaf export, shape statistics and the self audit.</summary>
public sealed partial class PageTable<TFormat>
{
    public Translation? Translate(ulong iova) => TryTranslate(iova, out var t) ? t : null;

    /// <summary>iova_to_phys: through the leaf-page array when it knows the level-0 table, else
    /// a walk from the top.</summary>
    public bool TryTranslate(ulong iova, out Translation translation)
    {
        translation = default;
        if (iova < _f.IovaBase || iova > CoveredLast(_levels)) return false;
        var known = _leafArray?.Find(iova);
        if (known is not null)
            return LeafTranslation(known[_f.LevelIndex(iova, 0, _levels)], 0, iova, out translation);
        return TryTranslateByWalk(iova, out translation);
    }

    /// <summary>A full walk from the top, never using the leaf-page array.</summary>
    public bool TryTranslateByWalk(ulong iova, out Translation translation)
    {
        translation = default;
        if (iova < _f.IovaBase || iova > CoveredLast(_levels)) return false;
        TablePage table = _root;
        for (int level = _levels - 1; level >= 0; level--)
        {
            ulong pte = table[_f.LevelIndex(iova, level, _levels)];
            PteKind kind = _f.Classify(pte, level);
            if (kind == PteKind.Leaf) return LeafTranslation(pte, level, iova, out translation);
            if (kind == PteKind.Empty || level == 0) return false;
            table = Resolve(pte, level);
        }
        return false;
    }

    /// <summary>The raw PTE of a 4 KiB IOVA from the leaf-page array in O(1); false when the
    /// array has no level-0 table there (the IOVA is unmapped or inside a larger leaf).</summary>
    public bool TryFindLeafPte(ulong iova, out ulong pte)
    {
        pte = 0;
        var known = _leafArray?.Find(iova);
        if (known is null) return false;
        pte = known[_f.LevelIndex(iova, 0, _levels)];
        return true;
    }

    private bool LeafTranslation(ulong pte, int level, ulong iova, out Translation translation)
    {
        translation = default;
        if (_f.Classify(pte, level) != PteKind.Leaf) return false;
        ulong size = _f.LeafSize(pte, level);
        ulong leafIova = iova & ~(size - 1);
        translation = new Translation(_f.LeafAddress(pte, level) + (iova - leafIova), _f.LeafProt(pte, level), leafIova, size);
        return true;
    }

    public IReadOnlyList<Leaf> Leaves()
    {
        var leaves = new List<Leaf>();
        Visit(_root, _levels - 1, _f.IovaBase, (pte, level, iova) =>
            leaves.Add(new Leaf(iova, _f.LeafAddress(pte, level), _f.LeafSize(pte, level), _f.LeafProt(pte, level))), null);
        return leaves;
    }

    public PageTableStats Stats()
    {
        var tables = new int[_levels];
        var leafEntries = new int[_levels];
        int leaves = 0;
        tables[_levels - 1] = 1;
        Visit(_root, _levels - 1, _f.IovaBase, (pte, level, iova) =>
        {
            leaves++;
            leafEntries[level] += (int)(_f.LeafSize(pte, level) >> _f.LevelShift(level));
        }, (table, level, iova) => tables[level]++);
        return new PageTableStats(_levels, tables, leafEntries, leaves);
    }

    /// <summary>Depth-first in IOVA order: each leaf once (its first slot), each child table
    /// before its contents.</summary>
    private void Visit(TablePage table, int level, ulong baseIova, Action<ulong, int, ulong> onLeaf, Action<TablePage, int, ulong>? onTable)
    {
        int shift = _f.LevelShift(level);
        for (int i = table.NextUsed(0); i >= 0; i = table.NextUsed(i + 1))
        {
            ulong pte = table[i];
            PteKind kind = _f.Classify(pte, level);
            if (kind == PteKind.Empty) continue;
            ulong iova = baseIova + ((ulong)i << shift);
            if (kind == PteKind.Table)
            {
                if (level == 0) continue;
                var child = Resolve(pte, level);
                onTable?.Invoke(child, level - 1, iova);
                Visit(child, level - 1, iova, onLeaf, onTable);
                continue;
            }
            int slots = (int)(_f.LeafSize(pte, level) >> shift);
            onLeaf(pte, level, iova);
            i += slots - 1;
        }
    }

    public IReadOnlyList<string> Audit()
    {
        var problems = new List<string>();
        int tables = 1, leafTables = 0;
        AuditTable(_root, _levels - 1, _f.IovaBase, true, problems, ref tables, ref leafTables);
        if (tables != _tablePages) problems.Add($"tree holds {tables} tables but the count says {_tablePages}");
        if (_leafArray is not null && _leafArray.Count != leafTables)
            problems.Add($"leaf-page array holds {_leafArray.Count} tables, the tree {leafTables} in its window");
        return problems;
    }

    private void AuditTable(TablePage table, int level, ulong baseIova, bool top, List<string> problems, ref int tables, ref int leafTables)
    {
        int shift = _f.LevelShift(level);
        int used = 0;
        if (!top && table.Used == 0) problems.Add($"empty level-{level} table at {Hex.Format(baseIova)} left in the tree");
        for (int i = 0; i < table.Length; i++)
        {
            ulong pte = table[i];
            PteKind kind = _f.Classify(pte, level);
            bool marked = table.IsMarked(i);
            if (marked != (kind != PteKind.Empty)) problems.Add($"level {level} slot {i}: occupancy bit disagrees with entry {Hex.Format(pte)}");
            if (kind == PteKind.Empty)
            {
                if (pte != _f.EmptyEntry) problems.Add($"level {level} slot {i}: unused entry {Hex.Format(pte)} is not the empty entry");
                continue;
            }
            used++;
            ulong iova = baseIova + ((ulong)i << shift);
            if (kind == PteKind.Table)
            {
                if (level == 0) { problems.Add($"table pointer at level 0, IOVA {Hex.Format(iova)}"); continue; }
                var child = Resolve(pte, level);
                tables++;
                if (level == 1 && _leafArray is not null && iova <= _leafArray.Last)
                {
                    leafTables++;
                    if (!ReferenceEquals(_leafArray.Find(iova), child))
                        problems.Add($"leaf-page array disagrees with the tree at {Hex.Format(iova)}");
                }
                AuditTable(child, level - 1, iova, false, problems, ref tables, ref leafTables);
                continue;
            }
            if (top && !_f.TopHoldsLeaves) problems.Add($"leaf in the top table at {Hex.Format(iova)}");
            if (!_f.IsCanonicalLeaf(pte, level)) problems.Add($"non-canonical level-{level} leaf {Hex.Format(pte)} at {Hex.Format(iova)}");
            ulong size = _f.LeafSize(pte, level);
            int slots = (int)(size >> shift);
            if (slots < 1 || (i & (slots - 1)) != 0 || i + slots > table.Length)
            {
                problems.Add($"level-{level} leaf of {Hex.Format(size)} misplaced at slot {i}");
                continue;
            }
            for (int s = 1; s < slots; s++)
                if (table[i + s] != pte) problems.Add($"replica {s} of the leaf at {Hex.Format(iova)} differs");
            ulong pa = _f.LeafAddress(pte, level);
            if ((pa & (size - 1)) != 0 || pa > _f.PaLast - (size - 1))
                problems.Add($"leaf at {Hex.Format(iova)}: PA {Hex.Format(pa)} misaligned or beyond the output size");
            if (iova > _f.IovaLast - (size - 1)) problems.Add($"leaf at {Hex.Format(iova)} beyond the input size");
            used += slots - 1;
            i += slots - 1;
        }
        if (used != table.Used) problems.Add($"level-{level} table at {Hex.Format(baseIova)}: {used} slots used, count says {table.Used}");
    }

    ulong IPageTableInternals.RawEntryForTest(ulong iova, int level)
    {
        if (iova < _f.IovaBase || iova > CoveredLast(_levels) || level < 0 || level >= _levels) return _f.EmptyEntry;
        TablePage table = _root;
        for (int l = _levels - 1; ; l--)
        {
            ulong pte = table[_f.LevelIndex(iova, l, _levels)];
            if (l == level) return pte;
            if (_f.Classify(pte, l) != PteKind.Table) return _f.EmptyEntry;
            table = Resolve(pte, l);
        }
    }

    bool IPageTableInternals.InstallEmptyTableForTest(ulong iova, int level) => InstallEmptyTableForTest(iova, level);

    /// <summary>Test seam: puts an empty table under the level-<paramref name="level"/> entry for
    /// <paramref name="iova"/> (creating the path to it), a state the map path must tolerate
    /// (mapping a block over an empty table is allowed). False if that entry is in use.</summary>
    internal bool InstallEmptyTableForTest(ulong iova, int level)
    {
        if (level < 1 || EnsureLevels(iova, level) is not null || level > _levels - 1) return false;
        TablePage table = _root;
        for (int l = _levels - 1; l >= level; l--)
        {
            int index = _f.LevelIndex(iova, l, _levels);
            ulong pte = table[index];
            PteKind kind = _f.Classify(pte, l);
            if (l == level && kind != PteKind.Empty) return false;
            if (kind == PteKind.Leaf) return false;
            if (kind == PteKind.Table) { table = Resolve(pte, l); continue; }
            var child = NewTable(l - 1, _levels);
            if (child is null) return false;
            table.Fill(index, _f.EncodeTable(child.Pa, l));
            if (l == 1) _leafArray?.Set(iova, child);
            table = child;
        }
        return true;
    }
}
