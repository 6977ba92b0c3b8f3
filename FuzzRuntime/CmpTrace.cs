using System.Numerics;

namespace DmaVerify.FuzzRuntime;

/// <summary>
/// Comparison feedback: the instrumenter puts a call to <see cref="Compare64"/> before every
/// 64-bit integer comparison (<c>ceq</c>, <c>clt</c>, <c>cgt</c> and the compare-and-branch
/// opcodes) of the code under test. While <see cref="Enabled"/>, each call
/// <list type="bullet">
/// <item>sets two value-profile features of the comparison site (libFuzzer's
/// <c>-use_value_profile</c>): the Hamming distance of the operands and the bit length of their
/// difference, so an input that brings a comparison's operands closer counts as new even when
/// no edge is new; and</item>
/// <item>records the operand pair in a small table of recent comparisons, which the mutator
/// copies into inputs (the input-to-state idea of AFL++'s CmpLog and Redqueen: an operand that
/// came from the input is replaced by the value it was compared with).</item>
/// </list>
/// Off (the default), a call costs a static load and a branch. One fuzzing engine per process
/// reads the features after each input (<see cref="Features"/>) and clears them.
/// </summary>
public static class CmpTrace
{
    /// <summary>Value-profile features: site × 128 distance classes, folded into this many.</summary>
    public const int ProfileSize = 1 << 18;

    /// <summary>Recent operand pairs kept (a slot per hash of the pair).</summary>
    public const int TableSize = 1 << TableBits;
    private const int TableBits = 7;

    /// <summary>At most this many distinct features are remembered per input (the rest are
    /// dropped, as libFuzzer's fixed-size map drops collisions).</summary>
    public const int MaxFeaturesPerInput = 1 << 14;

    /// <summary>Public and a plain field: read on every call from instrumented code.</summary>
    public static bool Enabled;

    private static readonly bool[] Hit = new bool[ProfileSize];
    private static readonly int[] Touched = new int[MaxFeaturesPerInput];
    private static int _touched;
    private static readonly ulong[] LeftOperands = new ulong[TableSize], RightOperands = new ulong[TableSize];
    private static int _pairs;

    /// <summary>The probe: records the operands <paramref name="a"/> and <paramref name="b"/> of
    /// the comparison with site id <paramref name="id"/>. Never throws.</summary>
    public static void Compare64(ulong a, ulong b, int id)
    {
        if (!Enabled) return;
        ulong x = a ^ b;
        int hamming = BitOperations.PopCount(x);                                   // 0..64
        int distance = x == 0 ? 0 : 64 - BitOperations.LeadingZeroCount(a > b ? a - b : b - a); // 0..64
        int site = (int)((uint)id * 2654435761u >> 8);
        Feature((site * 128 + hamming) & (ProfileSize - 1));
        Feature((site * 128 + 64 + (distance & 63)) & (ProfileSize - 1));
        if (x == 0) return;
        // Both operands mixed (not their xor alone, which files a value compared with 0 and with
        // a small constant in the same slot): the top 7 bits of a multiplicative hash.
        int slot = (int)(((a * 0x9E3779B97F4A7C15UL ^ b) * 0xBF58476D1CE4E5B9UL) >> (64 - TableBits));
        if (LeftOperands[slot] == 0 && RightOperands[slot] == 0) _pairs++;
        LeftOperands[slot] = a;
        RightOperands[slot] = b;
    }

    private static void Feature(int index)
    {
        if (Hit[index] || _touched == MaxFeaturesPerInput) return;
        Hit[index] = true;
        Touched[_touched++] = index;
    }

    /// <summary>The features the input just run set, each once (until <see cref="ClearFeatures"/>).</summary>
    public static ReadOnlySpan<int> Features => new(Touched, 0, _touched);

    /// <summary>Forgets the features of the input just run (call before the next one).</summary>
    public static void ClearFeatures()
    {
        for (int i = 0; i < _touched; i++) Hit[Touched[i]] = false;
        _touched = 0;
    }

    /// <summary>Filled slots of the operand table.</summary>
    public static int PairCount => _pairs;

    /// <summary>A recent operand pair: the slot <paramref name="pick"/> selects, walking to the
    /// next filled one; false while the table is empty.</summary>
    public static bool TryGetPair(int pick, out ulong a, out ulong b)
    {
        for (int k = 0; k < TableSize; k++)
        {
            int slot = (int)((uint)(pick + k) % TableSize);
            a = LeftOperands[slot];
            b = RightOperands[slot];
            if (a != 0 || b != 0) return true;
        }
        a = b = 0;
        return false;
    }

    /// <summary>Empties the operand table (a new campaign).</summary>
    public static void ResetPairs()
    {
        Array.Clear(LeftOperands);
        Array.Clear(RightOperands);
        _pairs = 0;
    }
}
