using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Tests.Dma;

/// <summary>The per-device dma-debug index against a plain list: random adds, removals in any
/// order (oldest first included) and n-th lookups, across compactions and growth.</summary>
public class LiveMappingsTests
{
    private static DmaMapping Entry(int id) => new()
    {
        Id = id, Device = 0, Kind = MappingKind.Single, Dma = new DmaAddr((ulong)id << 12), Size = 0x1000,
        Direction = DmaDirection.ToDevice, Phys = new PhysAddr(0x1000), Limit = ulong.MaxValue, Parts = [],
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AgreesWithAListUnderRandomAddsAndRemovals(int seed)
    {
        var random = new Random(seed);
        var live = new LiveMappings(capacity: 4);
        var expected = new List<DmaMapping>();
        int next = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int pick = random.Next(10);
            if (pick < 5 || expected.Count == 0)
            {
                var m = Entry(next++);
                live.Add(m);
                expected.Add(m);
            }
            else
            {
                // Oldest first half the time (the order a list pays O(n) for), else any.
                int index = pick < 7 ? 0 : random.Next(expected.Count);
                Assert.True(live.Remove(expected[index]));
                expected.RemoveAt(index);
            }
            Assert.Equal(expected.Count, live.Count);
            if (expected.Count > 0)
            {
                int probe = random.Next(expected.Count);
                Assert.Same(expected[probe], live[probe]);
            }
        }
        Assert.Equal(expected, live.InOrder());
        var copy = live.Clone();
        live.Remove(expected[0]);
        Assert.Equal(expected, copy.InOrder());
    }

    [Fact]
    public void RemovingAnUnknownEntryChangesNothing()
    {
        var live = new LiveMappings();
        live.Add(Entry(1));
        Assert.False(live.Remove(Entry(1))); // another object with the same fields
        Assert.Equal(1, live.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => live[1]);
    }
}
