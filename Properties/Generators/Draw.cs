using FsCheck;
using FsCheck.Fluent;

namespace DmaVerify.Properties;

/// <summary>Small FsCheck generators the others are built from.</summary>
public static class Draw
{
    /// <summary>A ulong in [lo, hi] (both below 2^63, which every address here is).</summary>
    public static Gen<ulong> Between(ulong lo, ulong hi) =>
        lo >= hi ? Gen.Constant(lo) : FsCheck.FSharp.Gen.Choose64((long)lo, (long)Math.Min(hi, long.MaxValue)).Select(v => (ulong)v);

    /// <summary>True with the given percentage.</summary>
    public static Gen<bool> Chance(int percent) => Gen.Choose(1, 100).Select(v => v <= percent);

    /// <summary>DMA_BIT_MASK(bits).</summary>
    public static ulong BitMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    public static Gen<T> Weighted<T>(IEnumerable<(int Weight, Gen<T> Gen)> choices)
    {
        var list = choices.Where(c => c.Weight > 0).Select(c => (c.Weight, c.Gen)).ToArray();
        return Gen.Frequency(list);
    }

    /// <summary>Runs a generator with an explicit FsCheck seed: the stateful op loop draws each
    /// op this way, from a stream of seeds derived (SplitMix64) from one seed FsCheck generated,
    /// so a case is a pure function of the (seed, gamma, size) FsCheck reports.</summary>
    public static T One<T>(Gen<T> gen, int size, ref ulong stream)
    {
        stream += 0x9E37_79B9_7F4A_7C15UL;
        ulong z = stream;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        z ^= z >> 31;
        return Evaluate(gen, size, new Rnd(z));
    }

    /// <summary>
    /// The value <c>Gen.Sample(gen, 1, rnd, size)[0]</c> gives (one sample of the given size),
    /// without Sample's sequence machinery: the generator's own function, read once per element
    /// type. FsCheck 3 keeps it in a non-public property; if a later FsCheck does not, this falls
    /// back to Sample. A test pins the two equal. (Drawing through Sample with its arguments
    /// swapped once made every op draw <c>size</c> samples of size 1 and keep the first: 15 µs
    /// an op, and sized generators never saw the case's size.)
    /// </summary>
    public static T Evaluate<T>(Gen<T> gen, int size, Rnd rnd) =>
        GenFunction<T>.Get is { } get ? get(gen).Invoke(size).Invoke(rnd).Item1 : Gen.Sample(gen, 1, rnd, size)[0];

    private static class GenFunction<T>
    {
        public static readonly Func<Gen<T>, Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Rnd, ValueTuple<T, Rnd>>>>? Get = Build();

        private static Func<Gen<T>, Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Rnd, ValueTuple<T, Rnd>>>>? Build()
        {
            var getter = typeof(Gen<T>).GetProperty("Item", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetMethod;
            if (getter is null || getter.ReturnType != typeof(Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Rnd, ValueTuple<T, Rnd>>>))
                return null;
            return getter.CreateDelegate<Func<Gen<T>, Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Rnd, ValueTuple<T, Rnd>>>>>();
        }
    }
}
