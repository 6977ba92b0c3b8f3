using System.Globalization;

namespace DmaVerify.Contracts;

/// <summary>A value to convert: its text, the column it starts at, and whether it was quoted.</summary>
internal readonly record struct Val(string Text, int Column, bool Quoted)
{
    public static Val Of(Token t) => t.Kind == TokenKind.Pair
        ? new Val(t.Value, t.ValueColumn, t.Quoted)
        : new Val(t.Text, t.Column, t.Quoted);
}

/// <summary>Error reporting and value conversion for one line. Each converter reports its own
/// error (with the column of the offending value or list element) and answers false.</summary>
internal sealed class LineContext
{
    private readonly IErrorSink _sink;

    public LineContext(IErrorSink sink, int lineNo)
    {
        _sink = sink;
        LineNo = lineNo;
    }

    public int LineNo { get; }
    public bool Failed { get; private set; }

    public void Error(int column, string message)
    {
        Failed = true;
        _sink.Error(LineNo, column, message);
    }

    private bool Fail(int column, string message)
    {
        Error(column, message);
        return false;
    }

    private enum NumberProblem { None, Bad, Overflow }

    /// <summary>Hex (0x…) or decimal digits, '_' allowed between digits, at most 2^64-1.</summary>
    private static NumberProblem Scan(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        bool hex = s.Length >= 2 && s[0] == '0' && s[1] is 'x' or 'X';
        uint radix = hex ? 16u : 10u;
        int i = hex ? 2 : 0;
        if (i >= s.Length) return NumberProblem.Bad;
        bool lastWasDigit = false, overflow = false;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '_')
            {
                if (!lastWasDigit) return NumberProblem.Bad;
                lastWasDigit = false;
                continue;
            }
            int d = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' when hex => c - 'a' + 10,
                >= 'A' and <= 'F' when hex => c - 'A' + 10,
                _ => -1,
            };
            if (d < 0) return NumberProblem.Bad;
            if (value > (ulong.MaxValue - (ulong)d) / radix) overflow = true;
            else value = value * radix + (ulong)d;
            lastWasDigit = true;
        }
        if (!lastWasDigit) return NumberProblem.Bad;
        return overflow ? NumberProblem.Overflow : NumberProblem.None;
    }

    public bool Number(Val v, string role, out ulong value)
    {
        value = 0;
        if (v.Quoted) return Fail(v.Column, $"{role}: expected a number, not a quoted string");
        return Scan(v.Text, out value) switch
        {
            NumberProblem.None => true,
            NumberProblem.Overflow => Fail(v.Column, $"{role}: number {ScenarioParser.Show(v.Text)} is larger than 2^64-1 (0xFFFFFFFFFFFFFFFF)"),
            _ => Fail(v.Column, v.Text.Length == 0
                ? $"{role}: expected a number (hex 0x… or decimal)"
                : $"{role}: bad number {ScenarioParser.Show(v.Text)}; expected hex 0x… or decimal digits"),
        };
    }

    /// <summary>A 32-bit signed integer (ids, counts, handle indexes); an optional leading '-'.</summary>
    public bool Int(Val v, string role, out int value)
    {
        value = 0;
        if (v.Quoted) return Fail(v.Column, $"{role}: expected a number, not a quoted string");
        if (!TryInt(v.Text, out value, out bool overflow))
        {
            return Fail(v.Column, overflow
                ? $"{role}: {ScenarioParser.Show(v.Text)} is out of range (a 32-bit signed number)"
                : v.Text.Length == 0
                    ? $"{role}: expected a number"
                    : $"{role}: bad number {ScenarioParser.Show(v.Text)}; expected decimal digits or hex 0x…");
        }
        return true;
    }

    private static bool TryInt(ReadOnlySpan<char> s, out int value, out bool overflow)
    {
        value = 0;
        overflow = false;
        bool negative = s.Length > 0 && s[0] == '-';
        var problem = Scan(negative ? s[1..] : s, out ulong magnitude);
        if (problem == NumberProblem.Bad) return false;
        if (problem == NumberProblem.Overflow || magnitude > (negative ? 0x8000_0000UL : int.MaxValue))
        {
            overflow = true;
            return false;
        }
        value = negative ? (int)(0L - (long)magnitude) : (int)magnitude;
        return true;
    }

    public bool Enum<T>(Val v, EnumNames<T> names, string role, out T value) where T : struct, Enum
    {
        if (!v.Quoted && names.TryGetValue(v.Text, out value)) return true;
        value = default;
        return Fail(v.Column, $"{role}: bad value {ScenarioParser.Show(v.Text)}; expected {string.Join(", ", names.Names)}");
    }

    /// <summary>Flag names joined with '|', or <c>none</c>.</summary>
    public bool FlagSet<T>(Val v, EnumNames<T> names, string role, out T value) where T : struct, Enum
    {
        value = default;
        if (v.Quoted) return Fail(v.Column, $"{role}: expected flags, not a quoted string");
        if (v.Text == TextNames.EmptyList) return true;
        long bits = 0;
        int offset = 0;
        foreach (string part in v.Text.Split('|'))
        {
            if (!names.TryGetValue(part, out T flag))
            {
                return Fail(v.Column + offset, part.Length == 0
                    ? $"{role}: empty flag in {ScenarioParser.Show(v.Text)}; expected {string.Join(", ", names.Names)} joined by '|'"
                    : $"{role}: unknown flag {ScenarioParser.Show(part)}; expected {string.Join(", ", names.Names)} joined by '|', or none");
            }
            long f = Convert.ToInt64(flag, CultureInfo.InvariantCulture);
            if ((bits & f) != 0) return Fail(v.Column + offset, $"{role}: flag {ScenarioParser.Show(part)} given twice");
            bits |= f;
            offset += part.Length + 1;
        }
        value = (T)System.Enum.ToObject(typeof(T), bits);
        return true;
    }

    /// <summary><c>#N</c>, <c>#N+X</c> (a live mapping) or a raw address.</summary>
    public bool Ref(Val v, string role, out AddressRef value)
    {
        value = null!;
        if (v.Quoted) return Fail(v.Column, $"{role}: expected a handle (#N, #N+OFFSET) or an address, not a quoted string");
        if (!v.Text.StartsWith('#'))
        {
            if (!Number(v, role, out ulong raw)) return false;
            value = new RawRef(raw);
            return true;
        }
        string body = v.Text[1..];
        int plus = body.IndexOf('+');
        string bad = $"{role}: bad handle {ScenarioParser.Show(v.Text)}; expected #N, #N+OFFSET or an address";
        if (!TryInt(plus < 0 ? body : body[..plus], out int index, out bool overflow))
            return Fail(v.Column, overflow ? $"{role}: handle index in {ScenarioParser.Show(v.Text)} is out of range (a 32-bit signed number)" : bad);
        ulong offset = 0;
        if (plus >= 0)
        {
            int offsetColumn = v.Column + 2 + plus;
            switch (Scan(body.AsSpan(plus + 1), out offset))
            {
                case NumberProblem.Bad: return Fail(offsetColumn, bad);
                case NumberProblem.Overflow: return Fail(offsetColumn, $"{role}: handle offset in {ScenarioParser.Show(v.Text)} is larger than 2^64-1");
            }
        }
        value = new LiveRef(index, offset);
        return true;
    }

    /// <summary>A comma-separated list (or <c>none</c>), each element read by <paramref name="item"/>
    /// with its own column.</summary>
    public bool ReadList<T>(Val v, string role, ItemReader<T> item, out ValueList<T> value)
    {
        value = ValueList<T>.Empty;
        if (v.Quoted) return Fail(v.Column, $"{role}: expected a list, not a quoted string");
        if (v.Text == TextNames.EmptyList) return true;
        var items = new List<T>();
        int offset = 0;
        foreach (string part in v.Text.Split(','))
        {
            if (!item(new Val(part, v.Column + offset, false), out T element)) return false;
            items.Add(element);
            offset += part.Length + 1;
        }
        value = items.ToValueList();
        return true;
    }

    public delegate bool ItemReader<T>(Val v, out T value);

    /// <summary><c>PHYS+LEN</c>: one input scatterlist entry.</summary>
    public bool ReadSgEntry(Val v, out SgEntry value)
    {
        value = null!;
        if (!Split(v, "+", "segs", "malformed sg list entry", "PHYS+LEN, e.g. 0x1000+0x2000", out var phys, out var len)) return false;
        if (!Number(phys, "segs", out ulong p) || !Number(len, "segs", out ulong l)) return false;
        value = new SgEntry(new PhysAddr(p), l);
        return true;
    }

    /// <summary><c>DMA+LEN</c>: one output segment of a map-sg outcome.</summary>
    public bool ReadDmaSegment(Val v, out DmaSegment value)
    {
        value = null!;
        if (!Split(v, "+", "sg-mapped", "malformed segment", "DMA+LEN, e.g. 0xFFFF0000+0x2000", out var dma, out var len)) return false;
        if (!Number(dma, "sg-mapped", out ulong d) || !Number(len, "sg-mapped", out ulong l)) return false;
        value = new DmaSegment(new DmaAddr(d), l);
        return true;
    }

    /// <summary><c>DMA->PHYS+LEN</c>: one chunk of an access outcome.</summary>
    public bool ReadAccessChunk(Val v, out AccessChunk value)
    {
        value = null!;
        int arrow = v.Text.IndexOf("->", StringComparison.Ordinal);
        int plus = arrow < 0 ? -1 : v.Text.IndexOf('+', arrow + 2);
        if (plus < 0)
            return Fail(v.Column, $"accessed: malformed chunk {ScenarioParser.Show(v.Text)}; expected DMA->PHYS+LEN, e.g. 0xFFFF0000->0x1234000+0x1000");
        var dma = new Val(v.Text[..arrow], v.Column, false);
        var phys = new Val(v.Text[(arrow + 2)..plus], v.Column + arrow + 2, false);
        var len = new Val(v.Text[(plus + 1)..], v.Column + plus + 1, false);
        if (!Number(dma, "accessed", out ulong d) || !Number(phys, "accessed", out ulong p) || !Number(len, "accessed", out ulong l))
            return false;
        value = new AccessChunk(d, new PhysAddr(p), l);
        return true;
    }

    public bool ReadPhys(Val v, out PhysAddr value)
    {
        value = default;
        if (!Number(v, TextNames.Bounces, out ulong p)) return false;
        value = new PhysAddr(p);
        return true;
    }

    private bool Split(Val v, string separator, string role, string what, string expected, out Val left, out Val right)
    {
        int at = v.Text.IndexOf(separator, StringComparison.Ordinal);
        if (at < 0)
        {
            left = right = default;
            return Fail(v.Column, $"{role}: {what} {ScenarioParser.Show(v.Text)}; expected {expected}");
        }
        left = new Val(v.Text[..at], v.Column, false);
        right = new Val(v.Text[(at + separator.Length)..], v.Column + at + separator.Length, false);
        return true;
    }
}

/// <summary>What the parser hands to a <see cref="LineContext"/> to report errors.</summary>
internal interface IErrorSink
{
    void Error(int line, int column, string message);
}
