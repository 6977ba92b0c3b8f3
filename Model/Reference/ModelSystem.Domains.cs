using DmaVerify.Contracts;

namespace DmaVerify.Model;

/// <summary>Domains and device configuration: AllocDomain, Attach, SetDomainType, SetMask.</summary>
public sealed partial class ModelSystem
{
    private bool TryDevice(int id, out ModelDevice device, out DeviceConfig config, out Failed? error)
    {
        device = _state.Device(id)!;
        config = _index.Device(id)!;
        error = device is null || config is null ? Fail(DmaErrorKind.UnknownDevice, $"no device {id} on preset {Platform.Preset}") : null;
        return error is null;
    }

    private IommuConfig? IommuOf(DeviceConfig config) => _index.IommuOf(config);

    private Outcome DoAllocDomain(AllocDomain op)
    {
        if (_index.Iommu(op.Iommu) is not IommuConfig iommu)
            return Fail(DmaErrorKind.InvalidArgument, $"no IOMMU {op.Iommu} on preset {Platform.Preset}");
        if (!iommu.Kind.HasPagingDomains)
            return Fail(DmaErrorKind.Unsupported, $"IOMMU {op.Iommu} ({iommu.Kind}) has no separate domains");
        if (op.Type is not (DomainType.Unmanaged or DomainType.Blocked or DomainType.Identity))
            return Fail(DmaErrorKind.InvalidArgument, $"alloc-domain makes unmanaged, blocked or identity domains; DMA domains are default domains (use set-domain-type)");
        return new DomainAllocated(NewDomain(iommu, op.Type, isDefault: false));
    }

    /// <summary>Policy refusals shared by Attach and SetDomainType.</summary>
    private static Failed? RefuseDomainFor(DeviceConfig config, IommuConfig iommu, DomainType type)
    {
        if (config.BypassesIommu && type != DomainType.Identity)
            return Fail(DmaErrorKind.VirtioBypass, $"device {config.Id} is virtio without ACCESS_PLATFORM: it uses physical addresses, so only an identity domain is safe ({type} refused)");
        if (config.Untrusted && type is DomainType.Identity or DomainType.DmaFq)
            return Fail(DmaErrorKind.UntrustedPolicy, $"device {config.Id} is untrusted: it gets strict DMA or unmanaged domains only ({type} refused)");
        if (type == DomainType.Blocked && iommu.Regions.Any(r => r.Type == ReservedRegionType.Direct))
            return Fail(DmaErrorKind.RequireDirect, $"device {config.Id} has direct regions that must stay mapped; a blocked domain is refused");
        return null;
    }

    private Outcome DoAttach(Attach op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        if (IommuOf(config) is not IommuConfig iommu) return Fail(DmaErrorKind.NoIommu, $"device {op.Device} is not behind an IOMMU");
        if (!iommu.Kind.HasPagingDomains) return Fail(DmaErrorKind.Unsupported, $"{iommu.Kind} devices cannot change domain");
        if (_state.Domain(op.Domain) is not ModelDomain domain) return Fail(DmaErrorKind.UnknownDomain, $"no domain {op.Domain}");
        if (!domain.Format.Equals(iommu.Format))
            return Fail(DmaErrorKind.IncompatibleDomain, $"domain {domain.Id} uses {domain.Format.Describe()}, IOMMU {iommu.Id} walks {iommu.Format.Describe()}");
        if (device.Domain == domain.Id) return Done.Instance;
        if (_state.MappingCountOf(device.Id) > 0)
            return Fail(DmaErrorKind.Busy, $"device {op.Device} has live DMA mappings; unmap them before changing its domain");
        if (RefuseDomainFor(config, iommu, domain.Type) is Failed refused) return refused;
        if (PrepareDomainForDevice(domain.Id, config) is Failed conflict) return conflict;
        MoveDevice(device.Id, config, domain.Id);
        return Done.Instance;
    }

    private Outcome DoSetDomainType(SetDomainType op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        if (IommuOf(config) is not IommuConfig iommu) return Fail(DmaErrorKind.NoIommu, $"device {op.Device} is not behind an IOMMU");
        if (!iommu.Kind.HasPagingDomains) return Fail(DmaErrorKind.Unsupported, $"{iommu.Kind} has no selectable domain types");
        if (op.Type is not (DomainType.Identity or DomainType.Dma or DomainType.DmaFq))
            return Fail(DmaErrorKind.InvalidArgument, $"a group type is identity, dma or dma-fq, not {op.Type}");
        if (RefuseDomainFor(config, iommu, op.Type) is Failed refused) return refused;
        var current = _state.DomainOf(device);
        if (current is { Type: DomainType.Dma, IsDefault: true } && op.Type == DomainType.DmaFq)
        {
            // DMA → DMA-FQ is done live, in place (the flush queue is set up under running DMA),
            // unless a device in the domain is untrusted.
            if (_state.DevicesIn(current.Id).Any(d => _index.Device(d.Id)!.Untrusted))
                return Fail(DmaErrorKind.UntrustedPolicy, $"domain {current.Id} serves an untrusted device; it stays strict");
            UpdateDomainSettings(current.Id, d => d with { Type = DomainType.DmaFq });
            return Done.Instance;
        }
        if (current is not null && current.Type == op.Type && current.IsDefault) return Done.Instance;
        if (_state.MappingCountOf(device.Id) > 0)
            return Fail(DmaErrorKind.Busy, $"device {op.Device} has live DMA mappings; the group type changes only with no driver bound");
        int domain = NewDomain(iommu, op.Type);
        if (PrepareDomainForDevice(domain, config) is Failed conflict) return conflict;
        MoveDevice(device.Id, config, domain);
        return new DomainAllocated(domain);
    }

    /// <summary>
    /// The device leaves its domain for <paramref name="domain"/>. When it was the last device
    /// of its IOMMU in the old domain, the IOMMU detaches from that domain: it invalidates what
    /// its IOTLB caches for it (Linux flushes the domain id's IOTLB on the last detach and then
    /// frees the id; an entry left behind would translate for the next domain given that id).
    /// Other IOMMUs of the old domain keep their entries.
    /// </summary>
    private void MoveDevice(int deviceId, DeviceConfig config, int domain)
    {
        var device = Dev(deviceId);
        int? old = device.Domain;
        SetDevice(device with { Domain = domain });
        Footprint.Domain(domain).Members = true;
        if (old is not int oldId || oldId == domain || config.Iommu is not int unit) return;
        Footprint.Domain(oldId).Members = true;
        if (_state.DevicesIn(oldId).Any(d => _index.Device(d.Id)!.Iommu == unit) || Planted(ModelPlant.DetachKeepsIotlb)) return;
        ForgetIommu(oldId, unit);
    }

    private Outcome DoSetMask(SetMask op)
    {
        if (!TryDevice(op.Device, out var device, out var config, out var error)) return error!;
        if (!DeviceConfig.IsValidMask(op.Mask) || !DeviceConfig.IsValidMask(op.CoherentMask))
            return Fail(DmaErrorKind.Unsupported, $"masks must be DMA_BIT_MASK(n) with 24 ≤ n ≤ 64; got {Hex.Format(op.Mask)} / {Hex.Format(op.CoherentMask)}");
        var iommu = IommuOf(config);
        if (iommu?.Tce is TceConfig tce)
        {
            // dma_iommu_dma_supported: the default window must be reachable; a 64-bit mask gets
            // the direct dynamic DMA window (enable_ddw).
            if (op.Mask < tce.DefaultWindow.Last)
                return Fail(DmaErrorKind.Unsupported, $"mask {Hex.Format(op.Mask)} cannot reach the default TCE window {tce.DefaultWindow}");
            bool ddw = op.Mask == ulong.MaxValue;
            device = device with { DdwActive = ddw, BusDmaLimit = ddw ? tce.DirectLimit - 1 : config.BusDmaLimit };
        }
        SetDevice(device with { DmaMask = op.Mask, CoherentMask = op.CoherentMask });
        return Done.Instance;
    }
}
