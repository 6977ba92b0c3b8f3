using System.Text;
using DmaVerify.Contracts;
using DmaVerify.Model;
using Xunit.Sdk;

namespace DmaVerify.Tests.Model;

/// <summary>Small helpers for the model's known-answer tests: run an op and insist on the kind of
/// answer, read a device's domain, and print a whole state so "nothing changed" can be compared
/// exactly.</summary>
internal static class Kit
{
    public const ulong K4 = 0x1000, K16 = 0x4000, K64 = 0x1_0000, M1 = 0x10_0000, M2 = 0x20_0000, M4 = 0x40_0000, G1 = 0x4000_0000;
    public const DmaDirection Bidi = DmaDirection.Bidirectional;

    public static ModelSystem New(string preset, ModelOptions? options = null) => new(Presets.Get(preset), options);

    public static ModelSystem New(PlatformConfig platform, ModelOptions? options = null) => new(platform, options);

    /// <summary>A preset with some devices replaced or added (scenario device overrides).</summary>
    public static PlatformConfig WithDevices(string preset, params DeviceConfig[] devices) =>
        new Scenario(preset, devices.ToValueList(), ValueList<ScenarioStep>.Empty).BuildPlatform();

    public static ulong BitMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    public static T Ok<T>(this ModelSystem m, Op op) where T : Outcome
    {
        var outcome = m.Apply(op);
        return outcome as T ?? throw new XunitException($"{op} answered {outcome}; expected {typeof(T).Name}");
    }

    public static Failed Refused(this ModelSystem m, Op op, DmaErrorKind kind)
    {
        var outcome = m.Apply(op);
        if (outcome is not Failed failed)
            throw new XunitException($"{op} answered {outcome}; expected a {kind} failure");
        if (failed.Kind != kind)
            throw new XunitException($"{op} failed with {failed.Error}; expected {kind}");
        return failed;
    }

    /// <summary>Applies an op that must fail with <paramref name="kind"/> and checks that the
    /// state afterwards prints exactly as a clone taken before it.</summary>
    public static Failed RefusedWithoutChange(this ModelSystem m, Op op, DmaErrorKind kind)
    {
        var before = m.State.Clone();
        var failed = m.Refused(op, kind);
        Assert.Equal(Fingerprint(before), Fingerprint(m.State));
        return failed;
    }

    public static Mapped MapOk(this ModelSystem m, int device, ulong phys, ulong length, DmaDirection direction = Bidi) =>
        m.Ok<Mapped>(new Map(device, new PhysAddr(phys), length, direction));

    public static SgMapped MapSgOk(this ModelSystem m, int device, params (ulong Phys, ulong Length)[] entries) =>
        m.Ok<SgMapped>(Sg(device, entries));

    public static MapSg Sg(int device, params (ulong Phys, ulong Length)[] entries) =>
        new(device, entries.Select(e => new SgEntry(new PhysAddr(e.Phys), e.Length)).ToValueList(), Bidi);

    public static DeviceAccess Access(int device, ulong dma, ulong length, bool write = true) =>
        new(device, new RawRef(dma), length, write);

    public static Accessed AccessOk(this ModelSystem m, int device, ulong dma, ulong length, bool write = true) =>
        m.Ok<Accessed>(Access(device, dma, length, write));

    /// <summary>The device reaches [phys, phys+length) through [dma, dma+length) in one piece.</summary>
    public static void Reaches(this ModelSystem m, int device, ulong dma, ulong phys, ulong length, bool write = true)
    {
        var accessed = m.AccessOk(device, dma, length, write);
        Assert.Equal(ValueList.Of(new AccessChunk(dma, new PhysAddr(phys), length)), accessed.Chunks);
    }

    public static Failed Faults(this ModelSystem m, int device, ulong dma, ulong length = 4, bool write = true) =>
        m.Refused(Access(device, dma, length, write), DmaErrorKind.Fault);

    public static DomainState DomainOf(this ModelSystem m, int device) =>
        m.State.Domain(m.State.Device(device)!.Domain ?? throw new XunitException($"device {device} has no domain"))!;

    public static int AllocDomainOk(this ModelSystem m, int iommu, DomainType type) =>
        m.Ok<DomainAllocated>(new AllocDomain(iommu, type)).Domain;

    /// <summary>Every field of a state, one line per item, so two states compare as strings and a
    /// difference shows where it is.</summary>
    public static string Fingerprint(SystemState s)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"now {s.NowMs}");
        foreach (var d in s.Devices)
            sb.AppendLine($"device {d.Id} mask {d.DmaMask:X} coherent {d.CoherentMask:X} bus {d.BusDmaLimit:X} domain {d.Domain} pci32 {d.Pci32First} ddw {d.DdwActive}");
        foreach (var d in s.Domains)
        {
            sb.AppendLine($"domain {d.Id} iommu {d.Iommu} {d.Type} default {d.IsDefault} flush {d.FlushStarted}/{d.FlushFinished} timer {d.TimerDeadline} bump {d.MsiBump:X} tables {d.TablePages}/{d.PendingFreeTablePages}");
            foreach (var a in d.Allocations) sb.AppendLine($"  alloc {a.Range} {a.Owner}");
            foreach (var r in d.Reserved) sb.AppendLine($"  reserved {r.Range} {r.Reason}");
            foreach (var l in d.Leaves.Values) sb.AppendLine($"  leaf {l}");
            foreach (var e in d.Iotlb) sb.AppendLine($"  iotlb {e}");
            foreach (var e in d.FlushQueue) sb.AppendLine($"  fq {e.Iova} {e.Counter}");
            foreach (var p in d.MsiPages) sb.AppendLine($"  msi {p.DoorbellPage:X}->{p.Iova:X}");
        }
        foreach (var m in s.Mappings)
        {
            sb.AppendLine($"mapping {m.Id} dev {m.Device} {m.Kind} {m.Dma} size {m.Size:X} {m.Direction} phys {m.Phys} nents {m.Nents} limit {m.Limit:X} in {m.Inputs} out {m.Segments}");
            foreach (var p in m.Parts) sb.AppendLine($"  part {p}");
        }
        foreach (var b in s.Bounces) sb.AppendLine($"bounce {b}");
        return sb.ToString();
    }
}
