namespace DmaVerify.Proofs.Z3;

/// <summary>
/// A Z3 bit-vector term with C# operators: arithmetic wraps modulo 2^Width; <c>&lt; &lt;= &gt; &gt;=</c> compare
/// unsigned (use <see cref="Slt"/> etc. for signed); <c>==</c>/<c>!=</c> build Boolean terms.
/// Operands of different widths are refused, never silently extended.
/// </summary>
public sealed class BvTerm : Term
{
    internal BvTerm(Z3Context context, IntPtr ast, uint width) : base(context, ast) => Width = width;

    public uint Width { get; }

    internal override Term Rewrap(IntPtr ast) => new BvTerm(Context, ast, Width);

    private BvTerm Make(IntPtr ast, uint width) => new(Context, Own(ast), width);

    private delegate IntPtr Binary(IntPtr ctx, IntPtr a, IntPtr b);

    // Operations on numerals fold to numerals (and comparisons to true/false), so values known
    // when a kernel is lifted (levels, granules, loop counters) stay known.
    private static BvTerm Op(BvTerm a, BvTerm b, Binary op)
    {
        Check(a, b);
        var r = a.Make(op(a.Context.Raw, a.Ast, b.Ast), a.Width);
        return a.Numeral is not null && b.Numeral is not null ? a.Context.Simplify(r) : r;
    }

    private static BoolTerm Cmp(BvTerm a, BvTerm b, Binary op)
    {
        Check(a, b);
        var r = new BoolTerm(a.Context, a.Context.Own(op(a.Context.Raw, a.Ast, b.Ast)));
        return a.Numeral is not null && b.Numeral is not null ? a.Context.Simplify(r) : r;
    }

    private static void Check(BvTerm a, BvTerm b)
    {
        a.SameContext(b);
        if (a.Width != b.Width) throw new ArgumentException($"bit-vector operands of widths {a.Width} and {b.Width}");
    }

    private BvTerm Num(ulong value) => Context.Bv(value, Width);

    public static BvTerm operator +(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvadd);
    public static BvTerm operator -(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvsub);
    public static BvTerm operator *(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvmul);
    public static BvTerm operator &(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvand);
    public static BvTerm operator |(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvor);
    public static BvTerm operator ^(BvTerm a, BvTerm b) => Op(a, b, Z3Native.Z3_mk_bvxor);
    public static BvTerm operator ~(BvTerm a) => a.Folded(a.Make(Z3Native.Z3_mk_bvnot(a.Context.Raw, a.Ast), a.Width));
    public static BvTerm operator -(BvTerm a) => a.Folded(a.Make(Z3Native.Z3_mk_bvneg(a.Context.Raw, a.Ast), a.Width));
    public static BvTerm operator <<(BvTerm a, int count) => a.Shl(a.Num((ulong)count));
    public static BvTerm operator >>(BvTerm a, int count) => a.LShr(a.Num((ulong)count));

    public static BvTerm operator +(BvTerm a, ulong b) => a + a.Num(b);
    public static BvTerm operator -(BvTerm a, ulong b) => a - a.Num(b);
    public static BvTerm operator *(BvTerm a, ulong b) => a * a.Num(b);
    public static BvTerm operator &(BvTerm a, ulong b) => a & a.Num(b);
    public static BvTerm operator |(BvTerm a, ulong b) => a | a.Num(b);
    public static BvTerm operator ^(BvTerm a, ulong b) => a ^ a.Num(b);

    public static BoolTerm operator ==(BvTerm a, BvTerm b) => Cmp(a, b, Z3Native.Z3_mk_eq);
    public static BoolTerm operator !=(BvTerm a, BvTerm b) => !(a == b);
    public static BoolTerm operator ==(BvTerm a, ulong b) => a == a.Num(b);
    public static BoolTerm operator !=(BvTerm a, ulong b) => !(a == a.Num(b));
    public static BoolTerm operator <(BvTerm a, BvTerm b) => Cmp(a, b, Z3Native.Z3_mk_bvult);
    public static BoolTerm operator <=(BvTerm a, BvTerm b) => Cmp(a, b, Z3Native.Z3_mk_bvule);
    public static BoolTerm operator >(BvTerm a, BvTerm b) => b < a;
    public static BoolTerm operator >=(BvTerm a, BvTerm b) => b <= a;
    public static BoolTerm operator <(BvTerm a, ulong b) => a < a.Num(b);
    public static BoolTerm operator <=(BvTerm a, ulong b) => a <= a.Num(b);
    public static BoolTerm operator >(BvTerm a, ulong b) => a > a.Num(b);
    public static BoolTerm operator >=(BvTerm a, ulong b) => a >= a.Num(b);

    public BoolTerm Slt(BvTerm b) => Cmp(this, b, Z3Native.Z3_mk_bvslt);
    public BoolTerm Sle(BvTerm b) => Cmp(this, b, Z3Native.Z3_mk_bvsle);
    public BoolTerm Sgt(BvTerm b) => b.Slt(this);
    public BoolTerm Sge(BvTerm b) => b.Sle(this);

    /// <summary>SMT-LIB shifts: a count ≥ Width gives 0 (or all sign bits); no masking here.</summary>
    public BvTerm Shl(BvTerm count) => Op(this, count, Z3Native.Z3_mk_bvshl);
    public BvTerm LShr(BvTerm count) => Op(this, count, Z3Native.Z3_mk_bvlshr);
    public BvTerm AShr(BvTerm count) => Op(this, count, Z3Native.Z3_mk_bvashr);

    /// <summary>SMT-LIB division: x / 0 is all ones, x % 0 is x (callers exclude 0 where .NET throws).</summary>
    public BvTerm UDiv(BvTerm b) => Op(this, b, Z3Native.Z3_mk_bvudiv);
    public BvTerm URem(BvTerm b) => Op(this, b, Z3Native.Z3_mk_bvurem);
    /// <summary>Truncating signed division and a remainder with the dividend's sign, as C#.</summary>
    public BvTerm SDiv(BvTerm b) => Op(this, b, Z3Native.Z3_mk_bvsdiv);
    public BvTerm SRem(BvTerm b) => Op(this, b, Z3Native.Z3_mk_bvsrem);

    // Width changes of numerals fold to numerals, so values known at lift time stay known.
    public BvTerm Extract(uint high, uint low) => Folded(Make(Z3Native.Z3_mk_extract(Context.Raw, high, low, Ast), high - low + 1));
    public BvTerm ZeroExtend(uint extra) => extra == 0 ? this : Folded(Make(Z3Native.Z3_mk_zero_ext(Context.Raw, extra, Ast), Width + extra));
    public BvTerm SignExtend(uint extra) => extra == 0 ? this : Folded(Make(Z3Native.Z3_mk_sign_ext(Context.Raw, extra, Ast), Width + extra));

    private BvTerm Folded(BvTerm result) => Numeral is not null ? Context.Simplify(result) : result;

    /// <summary>Low <paramref name="width"/> bits, or zero-extended to it.</summary>
    public BvTerm Resize(uint width, bool signed = false) =>
        width == Width ? this : width < Width ? Extract(width - 1, 0) : signed ? SignExtend(width - Width) : ZeroExtend(width - Width);

    /// <summary>The value if this is a numeral (of at most 64 bits).</summary>
    public ulong? Numeral => Width <= 64 && Z3Native.Z3_get_numeral_uint64(Context.Raw, Ast, out ulong v) ? v : null;

    public BoolTerm IsZero => this == 0UL;

    public override bool Equals(object? obj) => base.Equals(obj);
    public override int GetHashCode() => base.GetHashCode();
}
