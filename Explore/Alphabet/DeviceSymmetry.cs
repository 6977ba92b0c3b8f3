using DmaVerify.Contracts;

namespace DmaVerify.Explore;

/// <summary>
/// Devices that are interchangeable: configured alike in everything but id and name (masks,
/// limits, segment rules, PCI, trust, virtio, the IOMMU they sit behind) and alike in whether
/// they share a default domain. Renaming such devices (and the domains that follow them) maps a
/// state onto one that behaves the same, so the search keeps one of each (symmetry reduction,
/// <see cref="Model.StateFingerprint"/> with <see cref="Orders"/>). The alphabet gives such
/// devices the same choices, which is what makes the renaming map one alphabet onto the other.
/// </summary>
public sealed class DeviceSymmetry
{
    private readonly Dictionary<int, int[]> _classOf = [];

    private DeviceSymmetry(IReadOnlyList<int> ids, IReadOnlyList<int[]> classes, bool enabled)
    {
        Enabled = enabled;
        foreach (var c in classes)
            if (c.Length > 1)
                foreach (int id in c) _classOf[id] = c;
        Orders = enabled && _classOf.Count > 0 ? Permutations(ids, classes.Where(c => c.Length > 1).ToList()) : [];
    }

    /// <summary>No symmetry: every device is its own.</summary>
    public static DeviceSymmetry None(PlatformConfig platform) =>
        new([.. platform.Devices.OrderBy(d => d.Id).Select(d => d.Id)], [], enabled: false);

    public static DeviceSymmetry Of(PlatformConfig platform, int? exclude)
    {
        var ids = platform.Devices.OrderBy(d => d.Id).Select(d => d.Id).ToList();
        var classes = platform.Devices.Where(d => d.Id != exclude)
            .GroupBy(d => (Config: d with { Id = 0, Name = "" }, Shared: SharedSet(platform, d.Id)))
            .Select(g => g.Select(d => d.Id).Order().ToArray())
            .ToList();
        return new DeviceSymmetry(ids, classes, enabled: true);
    }

    private static int SharedSet(PlatformConfig platform, int id)
    {
        for (int i = 0; i < platform.SharedDefaultDomains.Count; i++)
            if (platform.SharedDefaultDomains[i].Contains(id)) return i;
        return -1;
    }

    public bool Enabled { get; }

    /// <summary>The device visiting orders to take the smallest hash over (empty: platform order only).</summary>
    public IReadOnlyList<IReadOnlyList<int>> Orders { get; }

    /// <summary>The lowest id of the device's class, or null when it has no interchangeable partner.</summary>
    public int? RepresentativeOf(int device) => _classOf.TryGetValue(device, out var c) ? c[0] : null;

    /// <summary>The device and its interchangeable partners, lowest id first.</summary>
    public IReadOnlyList<int> WithPartners(int device) => _classOf.TryGetValue(device, out var c) ? c : [device];

    /// <summary>The interchangeable classes, for reports ("1 ≡ 0").</summary>
    public IEnumerable<IReadOnlyList<int>> Classes => _classOf.Values.Distinct();

    /// <summary>Every order of the platform's devices that permutes ids only within classes.</summary>
    private static List<IReadOnlyList<int>> Permutations(IReadOnlyList<int> ids, List<int[]> classes)
    {
        var orders = new List<IReadOnlyList<int>> { ids.ToArray() };
        foreach (var c in classes)
        {
            var next = new List<IReadOnlyList<int>>();
            foreach (var order in orders)
                foreach (var perm in PermutationsOf(c))
                {
                    var copy = order.ToArray();
                    for (int i = 0; i < copy.Length; i++)
                    {
                        int k = Array.IndexOf(c, copy[i]);
                        if (k >= 0) copy[i] = perm[k];
                    }
                    next.Add(copy);
                }
            orders = next;
        }
        return orders;
    }

    private static IEnumerable<int[]> PermutationsOf(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in PermutationsOf([.. items.Take(i), .. items.Skip(i + 1)]))
                yield return [items[i], .. rest];
    }
}
