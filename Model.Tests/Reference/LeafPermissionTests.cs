using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Tests.Model;

/// <summary>What a leaf can encode decides what a device can do with it: LPAE stage 1 has no
/// write-only encoding, the GART no permission bits, a TCE always grants read.</summary>
public class LeafPermissionTests
{
    [Theory]
    [InlineData(PageTableFormatKind.VtdSecondStage, Prot.Write, Prot.Write)]
    [InlineData(PageTableFormatKind.AmdV1, Prot.Read, Prot.Read)]
    [InlineData(PageTableFormatKind.ArmLpaeS2, Prot.Write, Prot.Write)]
    [InlineData(PageTableFormatKind.ArmLpaeS1, Prot.Write, Prot.Read | Prot.Write)]
    [InlineData(PageTableFormatKind.ArmLpaeS1, Prot.Read, Prot.Read)]
    [InlineData(PageTableFormatKind.Tce, Prot.Write, Prot.Read | Prot.Write)]
    [InlineData(PageTableFormatKind.Tce, Prot.Read, Prot.Read)]
    [InlineData(PageTableFormatKind.Gart, Prot.Read, Prot.Read | Prot.Write)]
    [InlineData(PageTableFormatKind.VtdSecondStage, Prot.Write | Prot.NoExec | Prot.Mmio, Prot.Write)]
    [InlineData(PageTableFormatKind.ArmLpaeS1, Prot.None, Prot.None)]
    public void FormatRule(PageTableFormatKind format, Prot requested, Prot expected) =>
        Assert.Equal(expected, DmaRules.LeafPermissions(format, requested));

    [Theory]
    [InlineData("x86-vtd", false)]   // VT-d keeps write-only: a read faults
    [InlineData("arm-smmu", true)]   // LPAE stage 1: the from-device buffer is readable too
    public void DeviceReadOfAFromDeviceBuffer(string preset, bool readable)
    {
        var model = new ModelSystem(Presets.Get(preset));
        ulong phys = Presets.Get(preset).Ram[0].Start + 0x10_0000;
        Assert.IsType<Mapped>(model.Apply(new Map(1, new PhysAddr(phys), 0x1000, DmaDirection.FromDevice)));
        var read = model.Apply(new DeviceAccess(1, new LiveRef(0), 4, Write: false));
        if (readable) Assert.IsType<Accessed>(read);
        else Assert.Equal(DmaErrorKind.PermissionFault, Assert.IsType<Failed>(read).Kind);
    }
}
