using System.Runtime.InteropServices;
using DmaVerify.FuzzRuntime;

namespace DmaVerify.Fuzz.Engine;

/// <summary>
/// The engine's side of the coverage map: a pinned 64 KiB buffer attached to
/// <see cref="CoverageMap"/>, cleared before each input; afterwards every non-zero map entry is an
/// edge and (edge, hit-count bucket) a feature, as in AFL and libFuzzer. With
/// <see cref="ValueProfile"/>, the comparison features <see cref="CmpTrace"/> collected count
/// too (after the edge features). Remembers every edge and feature seen so far, which decides
/// whether an input is NEW.
/// </summary>
public sealed unsafe class CoverageFeatures : IDisposable
{
    private const int Buckets = 8;
    private const int EdgeFeatures = CoverageMap.Size * Buckets;
    private readonly byte[] _map = GC.AllocateArray<byte>(CoverageMap.Size, pinned: true);
    private readonly bool[] _edges = new bool[CoverageMap.Size];
    private readonly bool[] _features;
    private readonly List<int> _pending = [];
    private bool _attached;

    /// <param name="valueProfile">Count comparison features (and switch <see cref="CmpTrace"/>
    /// on while attached).</param>
    public CoverageFeatures(bool valueProfile = false)
    {
        ValueProfile = valueProfile;
        _features = new bool[EdgeFeatures + (valueProfile ? CmpTrace.ProfileSize : 0)];
    }

    public bool ValueProfile { get; }

    /// <summary>Value-profile features seen so far (part of <see cref="FeatureCount"/>).</summary>
    public int ValueFeatureCount { get; private set; }

    /// <summary>Edges seen so far (cov:).</summary>
    public int EdgeCount { get; private set; }
    /// <summary>Features seen so far (ft:).</summary>
    public int FeatureCount { get; private set; }

    public void Attach()
    {
        if (_attached) return;
        CoverageMap.Attach((byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_map, 0));
        if (ValueProfile)
        {
            CmpTrace.ClearFeatures();
            CmpTrace.ResetPairs();
            CmpTrace.Enabled = true;
        }
        _attached = true;
    }

    public void Dispose()
    {
        if (!_attached) return;
        CoverageMap.Detach();
        if (ValueProfile)
        {
            CmpTrace.Enabled = false;
            CmpTrace.ClearFeatures();
        }
        _attached = false;
    }

    /// <summary>Call right before running an input.</summary>
    public void Clear()
    {
        Array.Clear(_map);
        CoverageMap.PreviousLocation = 0;
        if (ValueProfile) CmpTrace.ClearFeatures();
    }

    /// <summary>Counts the features of the input just run that were never seen; with
    /// <paramref name="commit"/> they are remembered (the input joins the corpus).</summary>
    public int CollectNew(bool commit)
    {
        _pending.Clear();
        var map = _map.AsSpan();
        int position = 0;
        while (position < map.Length)
        {
            int next = map[position..].IndexOfAnyExcept((byte)0);
            if (next < 0) break;
            position += next;
            int feature = position * Buckets + Bucket(map[position]);
            if (!_features[feature]) _pending.Add(feature);
            position++;
        }
        if (ValueProfile)
            foreach (int index in CmpTrace.Features)
                if (!_features[EdgeFeatures + index]) _pending.Add(EdgeFeatures + index);
        int count = _pending.Count;
        if (commit) Commit();
        return count;
    }

    /// <summary>Remembers the features found by the last <see cref="CollectNew"/>.</summary>
    public void Commit()
    {
        foreach (int feature in _pending)
        {
            if (_features[feature]) continue;
            _features[feature] = true;
            FeatureCount++;
            if (feature >= EdgeFeatures)
            {
                ValueFeatureCount++;
                continue;
            }
            int edge = feature / Buckets;
            if (!_edges[edge])
            {
                _edges[edge] = true;
                EdgeCount++;
            }
        }
        _pending.Clear();
    }

    /// <summary>AFL's hit-count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.</summary>
    public static int Bucket(byte count) => count switch
    {
        1 => 0, 2 => 1, 3 => 2, < 8 => 3, < 16 => 4, < 32 => 5, < 128 => 6, _ => 7,
    };
}
