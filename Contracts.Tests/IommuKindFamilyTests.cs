using DmaVerify.Contracts;

namespace DmaVerify.Tests.Contracts;

/// <summary>The families Model and Optimized both branch on: a kind in neither (or both) would
/// send a device down no path (or two).</summary>
public class IommuKindFamilyTests
{
    [Theory]
    [InlineData(IommuKind.VtD, true)]
    [InlineData(IommuKind.AmdVi, true)]
    [InlineData(IommuKind.ArmSmmu, true)]
    [InlineData(IommuKind.Gart, false)]
    [InlineData(IommuKind.Tce, false)]
    public void EveryKindIsInExactlyOneFamily(IommuKind kind, bool paging)
    {
        Assert.Equal(paging, kind.HasPagingDomains);
        Assert.Equal(!paging, kind.HasBitmapWindow);
    }

    [Fact]
    public void TheFamiliesCoverTheWholeEnum() =>
        Assert.All(Enum.GetValues<IommuKind>(), kind => Assert.True(kind.HasPagingDomains ^ kind.HasBitmapWindow, $"{kind}"));

    [Theory]
    [InlineData(DomainType.Blocked, false, false)]
    [InlineData(DomainType.Identity, false, false)]
    [InlineData(DomainType.Dma, true, true)]
    [InlineData(DomainType.DmaFq, true, true)]
    [InlineData(DomainType.Unmanaged, true, false)]
    public void DomainTypeFamiliesFollowTheLinuxFlags(DomainType type, bool paging, bool dmaApi)
    {
        Assert.Equal(paging, type.IsPaging);
        Assert.Equal(dmaApi, type.IsDmaApi);
    }
}
