namespace DmaVerify.Proofs.Z3;

/// <summary>A Z3 Boolean term with C# logical operators (<c>&amp; | ^ !</c>, <c>==</c>/<c>!=</c> build terms).</summary>
public sealed class BoolTerm : Term
{
    internal BoolTerm(Z3Context context, IntPtr ast) : base(context, ast) { }

    internal override Term Rewrap(IntPtr ast) => new BoolTerm(Context, ast);

    private BoolTerm Make(IntPtr ast) => new(Context, Own(ast));

    public static BoolTerm operator !(BoolTerm a) => a.Literal is bool v ? a.Context.Bool(!v) : a.Make(Z3Native.Z3_mk_not(a.Context.Raw, a.Ast));
    public static BoolTerm operator &(BoolTerm a, BoolTerm b) => a.Context.And(a, b);
    public static BoolTerm operator |(BoolTerm a, BoolTerm b) => a.Context.Or(a, b);
    public static BoolTerm operator ^(BoolTerm a, BoolTerm b) { a.SameContext(b); return a.Make(Z3Native.Z3_mk_xor(a.Context.Raw, a.Ast, b.Ast)); }
    public static BoolTerm operator ==(BoolTerm a, BoolTerm b) { a.SameContext(b); return a.Make(Z3Native.Z3_mk_eq(a.Context.Raw, a.Ast, b.Ast)); }
    public static BoolTerm operator !=(BoolTerm a, BoolTerm b) => !(a == b);
    public static BoolTerm operator &(BoolTerm a, bool b) => b ? a : a.Context.False;
    public static BoolTerm operator |(BoolTerm a, bool b) => b ? a.Context.True : a;

    public BoolTerm Implies(BoolTerm consequence)
    {
        SameContext(consequence);
        return Make(Z3Native.Z3_mk_implies(Context.Raw, Ast, consequence.Ast));
    }

    /// <summary>if this then <paramref name="then"/> else <paramref name="otherwise"/>.</summary>
    public BvTerm Ite(BvTerm then, BvTerm otherwise)
    {
        if (Literal is bool known) return known ? then : otherwise;
        SameContext(then);
        SameContext(otherwise);
        if (then.Width != otherwise.Width) throw new ArgumentException($"ite branches of widths {then.Width} and {otherwise.Width}");
        return new BvTerm(Context, Own(Z3Native.Z3_mk_ite(Context.Raw, Ast, then.Ast, otherwise.Ast)), then.Width);
    }

    public BoolTerm Ite(BoolTerm then, BoolTerm otherwise) =>
        Make(Z3Native.Z3_mk_ite(Context.Raw, Ast, then.Ast, otherwise.Ast));

    /// <summary>The value if this term is literally true or false (after simplification, a ground term is).</summary>
    public bool? Literal => Z3Native.Z3_get_bool_value(Context.Raw, Ast) switch { 1 => true, -1 => false, _ => null };

    /// <summary>As a 1-bit-per-value int32, the way IL stores a bool.</summary>
    public BvTerm ToBv(uint width = 32) => Literal switch
    {
        true => Context.Bv(1, width),
        false => Context.Bv(0, width),
        null => Ite(Context.Bv(1, width), Context.Bv(0, width)),
    };

    public override bool Equals(object? obj) => base.Equals(obj);
    public override int GetHashCode() => base.GetHashCode();
}
