using DmaVerify.Optimized.Iova;

namespace DmaVerify.Tests.IovaAllocators;

public class DmaIovaPolicyTests
{
    [Fact]
    public void PciDevicesTryBelow4GiBFirstAndGiveUpForGoodOnFailure()
    {
        foreach (var (name, make) in Allocators.Both())
        {
            var a = make(1);
            const ulong Limit64 = (1UL << 40) - 1;
            bool pci32 = true;
            Assert.True(Allocators.Limit32 == DmaIovaPolicy.Alloc(a, 1, Limit64, 12, ref pci32), name);
            Assert.True(pci32);
            Assert.True(a.Reserve(1, Allocators.Limit32 - 1));             // below 4 GiB is now full
            Assert.True(Limit64 == DmaIovaPolicy.Alloc(a, 1, Limit64, 12, ref pci32), name);
            Assert.False(pci32);                                   // cleared permanently
            Assert.True(a.Free(Allocators.Limit32));
            Assert.True(Limit64 - 1 == DmaIovaPolicy.Alloc(a, 1, Limit64, 12, ref pci32), name); // no 32-bit try any more
            bool nonPci = false;
            Assert.True(Limit64 - 2 == DmaIovaPolicy.Alloc(a, 1, Limit64, 12, ref nonPci), name);
        }
    }
}
