using DmaVerify.Contracts;
using DmaVerify.Model;
using DmaVerify.Optimized.PageTables;
using Xunit.Abstractions;

namespace DmaVerify.Tests.PageTables;

/// <summary>
/// generic_pt's test_random_map, per format: thousands of random maps and unmaps checked against
/// <see cref="LeafModel"/> (leaf sizes from Model.DmaRules.LeavesFor), with translation probes,
/// periodic full leaf comparisons and audits, and the page count back to one table at the end.
/// </summary>
public class RandomMapTests(ITestOutputHelper output)
{
    private const int Ops = 3000;

    [Theory]
    [MemberData(nameof(TableCases.Names), MemberType = typeof(TableCases))]
    public void RandomMapsAgreeWithTheModel(string name)
    {
        var tc = TableCases.Get(name);
        var table = tc.New();
        var model = new LeafModel();
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7FFF_FFFF ^ 0x5EED);
        ulong granule = table.Granule;
        var sizes = Enumerable.Range(0, 64).Select(b => 1UL << b)
            .Where(s => (table.PageSizes & s) != 0 && s <= 1UL << tc.MaxUnitLog2).ToArray();
        int maps = 0, refused = 0, unmaps = 0;

        for (int op = 0; op < Ops; op++)
        {
            if (model.Count == 0 || rng.Next(100) < 65)
            {
                var (iova, pa, size) = RandomRange(rng, tc, sizes, granule);
                var prot = (Prot)rng.Next(1, 4) | (rng.Next(4) == 0 ? Prot.Cache : Prot.None);
                bool overlaps = model.Overlaps(iova, iova + (size - 1));
                // A full snapshot of a sparse 64K-granule tree costs millions of entry reads, so
                // every refusal checks the page counts and every 8th the whole leaf list too
                // (the fault-injection and overlap tests check every case in full).
                var before = overlaps && refused % 8 == 0 ? table.Leaves() : null;
                int pagesBefore = table.TablePages, livePagesBefore = table.Allocator.LivePages;
                var result = table.Map(iova, pa, size, prot);
                if (overlaps)
                {
                    Assert.Equal(DmaErrorKind.AddressInUse, result.Error);
                    if (before is not null) Assert.Equal(before, table.Leaves());
                    Assert.Equal(pagesBefore, table.TablePages);
                    Assert.Equal(livePagesBefore, table.Allocator.LivePages);
                    refused++;
                }
                else
                {
                    Assert.True(result.IsSuccess, $"{name}: map {iova:X}+{size:X}->{pa:X}: {result}");
                    model.Add(DmaRules.LeavesFor(table.PageSizes, iova, pa, size, table.EffectiveProt(prot)));
                    maps++;
                }
            }
            else
            {
                var leaf = model.Leaves[rng.Next(model.Count)];
                ulong size = rng.Next(3) == 0 ? granule * (ulong)rng.Next(1, 64) : leaf.Size * (ulong)rng.Next(1, 3);
                ulong iova = rng.Next(4) == 0 ? leaf.Iova + (ulong)rng.NextInt64((long)(leaf.Size / granule)) * granule : leaf.Iova;
                Assert.Equal(model.Unmap(iova, size), table.Unmap(iova, size));
                unmaps++;
            }

            for (int p = 0; p < 3; p++) Probe(table, model, tc, rng, granule);
            if (op % 500 == 0 || op == Ops - 1) CheckWhole(table, model, name);
        }
        var stats = table.Stats();
        output.WriteLine($"{name}: {maps} maps, {refused} refused, {unmaps} unmaps; {model.Count} leaves, {stats.Tables} tables, levels {stats.Levels}, per-level leaves [{string.Join(",", stats.LeafEntriesPerLevel)}]");
        Assert.True(maps > Ops / 4 && unmaps > Ops / 10, $"{name}: {maps} maps, {refused} refused, {unmaps} unmaps");

        foreach (var leaf in model.Leaves.ToArray())
            Assert.Equal(leaf.Size, table.Unmap(leaf.Iova, leaf.Size));
        Assert.Empty(table.Leaves());
        Assert.Equal(1, table.TablePages);
        Assert.Equal(1, table.Allocator.LivePages);
        Assert.Empty(table.Audit());
    }

    private static void CheckWhole(IPageTable table, LeafModel model, string name)
    {
        Assert.Equal(model.Leaves, table.Leaves());
        Assert.Empty(table.Audit());
        Assert.Equal(table.Stats().Tables, table.TablePages);
        Assert.Equal(table.TablePages, table.Allocator.LivePages);
        _ = name;
    }

    private static void Probe(IPageTable table, LeafModel model, TableCase tc, Random rng, ulong granule)
    {
        ulong iova;
        if (model.Count > 0 && rng.Next(2) == 0)
        {
            var leaf = model.Leaves[rng.Next(model.Count)];
            iova = leaf.Iova + (ulong)rng.NextInt64((long)Math.Min(leaf.Size, 1UL << 62));
        }
        else iova = tc.IovaLo + (ulong)rng.NextInt64(1L << Math.Min(tc.IovaSpanLog2, 62));
        var expected = model.LeafAt(iova);
        var got = table.Translate(iova);
        if (expected is null)
        {
            Assert.Null(got);
            return;
        }
        Assert.Equal(new Translation(expected.Phys + (iova - expected.Iova), expected.Prot, expected.Iova, expected.Size), got);
    }

    /// <summary>head (a few granules below a unit boundary) + 1..3 units + a tail of smaller
    /// pages; the PA congruent to the IOVA modulo the unit most of the time, so large pages are
    /// used, and only granule aligned otherwise (then only for small units).</summary>
    private static (ulong Iova, ulong Pa, ulong Size) RandomRange(Random rng, TableCase tc, ulong[] sizes, ulong granule)
    {
        ulong unit = sizes[rng.Next(sizes.Length)];
        ulong smaller = sizes[rng.Next(Array.IndexOf(sizes, unit) + 1)];
        ulong head = unit > granule ? granule * (ulong)rng.Next(4) : 0;
        ulong size = head + unit * (ulong)rng.Next(1, 4) + smaller * (ulong)rng.Next(3) + granule * (ulong)rng.Next(3);
        long slots = (long)((1UL << tc.IovaSpanLog2) / unit) - 8;
        ulong iova = tc.IovaLo + unit * (ulong)rng.NextInt64(1, slots) - head;
        ulong pa;
        if (rng.Next(5) > 0 || unit > 64 * granule)
        {
            long paSlots = (long)Math.Min((1UL << tc.PaSpanLog2) / unit, 1UL << 62) - 8;
            pa = unit * (ulong)rng.NextInt64(1, paSlots) - head;
        }
        else pa = granule * (ulong)rng.NextInt64(1, (long)((1UL << tc.PaSpanLog2) / granule) - 1024);
        return (iova, pa, size);
    }
}
