using System.Text;

namespace DmaVerify.Fuzz.TestTargets;

/// <summary>
/// Every control-flow shape the instrumenter has to get right: loops, switches, short and long
/// branches, values left on the stack across a branch, try/catch/finally/filter/fault (via
/// using and foreach), rethrow, iterators, async state machines, lambdas, generics, struct and
/// static constructors. <see cref="Digest"/> folds the results of all of them into a string, so
/// an original and an instrumented copy can be compared on many inputs.
/// </summary>
public static class IlShapes
{
    private static readonly int[] Table = BuildTable();

    public static string Digest(int x)
    {
        var sb = new StringBuilder();
        sb.Append(Loop(x)).Append('|')
          .Append(Switch(x)).Append('|')
          .Append(Ternary(x)).Append('|')
          .Append(Catch(x)).Append('|')
          .Append(Filter(x)).Append('|')
          .Append(Finally(x)).Append('|')
          .Append(string.Join(",", Iterator(x))).Append('|')
          .Append(AsyncSum(x).GetAwaiter().GetResult()).Append('|')
          .Append(Generic(x, x.ToString())).Append('|')
          .Append(new Point(x, -x).Manhattan).Append('|')
          .Append(Table[(uint)x % (uint)Table.Length]).Append('|')
          .Append(Lambda(x)).Append('|')
          .Append(StringSwitch(x)).Append('|')
          .Append(Rethrow(x)).Append('|')
          .Append(BigMethod(x)).Append('|')
          .Append(CheckedOverflow(x)).Append('|')
          .Append(Comparisons(x * 0x1_0000_0001L, (ulong)x << 33, x));
        return sb.ToString();
    }

    /// <summary>64-bit comparisons of the shapes the comparison hooks meet: signed and unsigned
    /// compare-and-branch, compare-to-bool, a test against zero, a ternary that leaves a 64-bit
    /// value on the stack; beside them 32-bit comparisons, which the hooks leave alone.</summary>
    public static int Comparisons(long a, ulong b, int c)
    {
        int r = 0;
        if (a < 0x1234_5678_9ABCL) r |= 1;
        if (b > 0xFFFF_FFFFUL) r |= 2;
        if ((ulong)a == b) r |= 4;
        bool below = b < 77;
        r += below ? 8 : 0;
        if (c > 5) r |= 16;
        if (b != 0) r |= 32;
        long larger = a > (long)b ? a : (long)b;
        r += larger >= 0 ? 64 : 128;
        return c == 3 ? r * 2 : r;
    }

    private static int Loop(int x)
    {
        int acc = 0;
        for (int i = 0; i < (x & 31); i++)
        {
            if (i % 3 == 0) continue;
            acc += i * (x | 1);
            if (acc > 100_000) break;
        }
        int j = x & 7;
        while (j-- > 0) acc ^= j << 3;
        do { acc++; } while ((acc & 3) != 0);
        return acc;
    }

    private static string Switch(int x) => (x & 15) switch
    {
        0 => "zero",
        1 or 2 => "small",
        3 => "three",
        7 => "seven",
        8 => "eight",
        9 => "nine",
        10 => "ten",
        _ when x < 0 => "negative",
        _ => "other",
    };

    // Values stay on the evaluation stack across the branches (a ternary inside a call).
    private static long Ternary(int x) => Math.Max(x > 0 ? x : -x, x % 2 == 0 ? 10 : 20) + (x == 5 ? 1L : 2L);

    private static string Catch(int x)
    {
        try
        {
            if (x % 5 == 0) throw new InvalidOperationException("five");
            return (100 / (x % 7)).ToString();
        }
        catch (DivideByZeroException)
        {
            return "div0";
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    }

    private static string Filter(int x)
    {
        try
        {
            throw new ArgumentException(x.ToString());
        }
        catch (ArgumentException e) when (e.Message.Length > 2)
        {
            return "long";
        }
        catch (ArgumentException)
        {
            return "short";
        }
    }

    private static int Finally(int x)
    {
        int r = 0;
        try
        {
            try
            {
                r = x * 2;
                if (x > 10) return r;
            }
            finally
            {
                r += 1;
            }
            using var d = new Disposable();
            r += d.Value;
        }
        finally
        {
            r -= 3;
        }
        return r;
    }

    private static IEnumerable<int> Iterator(int x)
    {
        for (int i = 0; i < (x & 3); i++)
        {
            if (i == 2) yield break;
            yield return i * x;
        }
    }

    private static async Task<int> AsyncSum(int x)
    {
        int s = 0;
        for (int i = 0; i < (x & 3); i++)
            s += await Task.FromResult(i + x).ConfigureAwait(false);
        return s;
    }

    private static string Generic<T>(int x, T value) where T : notnull =>
        x % 2 == 0 ? value.ToString() ?? "" : typeof(T).Name;

    private static int Lambda(int x)
    {
        Func<int, int> f = x > 3 ? (v => v * x) : (v => v - x);
        return Enumerable.Range(0, 4).Where(i => i != (x & 3)).Select(f).Sum();
    }

    private static int StringSwitch(int x) => (x % 9).ToString() switch
    {
        "0" => 10, "1" => 11, "2" => 12, "3" => 13, "4" => 14, "5" => 15, "6" => 16, "-1" => -1, _ => 0,
    };

    private static string Rethrow(int x)
    {
        try
        {
            try
            {
                if ((x & 1) == 1) throw new FormatException("odd");
                return "even";
            }
            catch (FormatException)
            {
                throw;
            }
        }
        catch (Exception e)
        {
            return "rethrown " + e.Message;
        }
    }

    // Long enough that branches over it need the long form once probes are added.
    private static int BigMethod(int x)
    {
        int a = x;
        if (a > 0)
        {
            a = a * 3 + 1; a ^= a >> 3; a = a * 5 + 7; a ^= a << 2; a = a * 11 + 13; a ^= a >> 5;
            a = a * 3 + 1; a ^= a >> 3; a = a * 5 + 7; a ^= a << 2; a = a * 11 + 13; a ^= a >> 5;
            a = a * 3 + 1; a ^= a >> 3; a = a * 5 + 7; a ^= a << 2; a = a * 11 + 13; a ^= a >> 5;
            if (a % 3 == 0) a++;
            if (a % 5 == 0) a--;
            if (a % 7 == 0) a += 2;
        }
        return a;
    }

    private static string CheckedOverflow(int x)
    {
        try
        {
            return checked(x * 65_536 * 65_536).ToString();
        }
        catch (OverflowException)
        {
            return "overflow";
        }
    }

    private static int[] BuildTable()
    {
        var t = new int[17];
        for (int i = 0; i < t.Length; i++) t[i] = i * i - 3 * i;
        return t;
    }

    private readonly struct Point(int x, int y)
    {
        public int Manhattan { get; } = Math.Abs(x) + (y < 0 ? -y : y);
    }

    private sealed class Disposable : IDisposable
    {
        public int Value { get; private set; } = 5;
        public void Dispose() => Value = 0;
    }
}
