namespace DmaVerify.Proofs.Z3;

/// <summary>
/// One Z3 context (reference-counted ASTs). Every term made here is inc_ref'd once and
/// dec_ref'd when the context is disposed, so terms never dangle while the context lives and
/// nothing leaks after it. Not thread-safe, like Z3 itself: one context per thread.
/// </summary>
public sealed class Z3Context : IDisposable
{
    private readonly ContextHandle _handle;
    private readonly List<IntPtr> _owned = [];
    private readonly Dictionary<uint, IntPtr> _bvSorts = [];
    private IntPtr _boolSort;
    // Kept alive for as long as the context: Z3 calls it instead of exiting on an error.
    private static readonly Z3Native.ErrorHandler IgnoreErrors = (_, _) => { };

    public Z3Context()
    {
        Z3Native.EnsureLoaded();
        IntPtr cfg = Z3Native.Z3_mk_config();
        Z3Native.Z3_set_param_value(cfg, "model", "true");
        IntPtr ctx = Z3Native.Z3_mk_context_rc(cfg);
        Z3Native.Z3_del_config(cfg);
        if (ctx == IntPtr.Zero) throw new Z3Exception("Z3_mk_context_rc failed");
        Z3Native.Z3_set_error_handler(ctx, IgnoreErrors);
        _handle = new ContextHandle(ctx);
    }

    /// <summary>The full version string of the loaded libz3 (e.g. "Z3 4.8.12.0").</summary>
    public static string Version
    {
        get { Z3Native.EnsureLoaded(); return Z3Native.Text(Z3Native.Z3_get_full_version()) ?? "?"; }
    }

    internal IntPtr Raw
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    internal ContextHandle Handle => _handle;

    /// <summary>Throws the pending Z3 error, if any; otherwise takes ownership of <paramref name="ast"/>.</summary>
    internal IntPtr Own(IntPtr ast)
    {
        CheckError();
        if (ast == IntPtr.Zero) throw new Z3Exception("Z3 returned no term");
        Z3Native.Z3_inc_ref(Raw, ast);
        _owned.Add(ast);
        return ast;
    }

    internal void CheckError()
    {
        int code = Z3Native.Z3_get_error_code(Raw);
        if (code != 0) throw new Z3Exception(Z3Native.Text(Z3Native.Z3_get_error_msg(Raw, code)) ?? $"Z3 error {code}");
    }

    internal IntPtr BvSort(uint width)
    {
        if (width == 0 || width > 128) throw new ArgumentOutOfRangeException(nameof(width), width, "bit-vector widths are 1..128 here");
        if (!_bvSorts.TryGetValue(width, out var sort)) _bvSorts[width] = sort = Own(Z3Native.Z3_mk_bv_sort(Raw, width));
        return sort;
    }

    internal IntPtr BoolSort => _boolSort != IntPtr.Zero ? _boolSort : _boolSort = Own(Z3Native.Z3_mk_bool_sort(Raw));

    /// <summary>A bit-vector constant (free variable) named <paramref name="name"/>.</summary>
    public BvTerm BvVar(string name, uint width) =>
        new(this, Own(Z3Native.Z3_mk_const(Raw, Z3Native.Z3_mk_string_symbol(Raw, name), BvSort(width))), width);

    public BoolTerm BoolVar(string name) =>
        new(this, Own(Z3Native.Z3_mk_const(Raw, Z3Native.Z3_mk_string_symbol(Raw, name), BoolSort)));

    /// <summary>The numeral <paramref name="value"/> truncated to <paramref name="width"/> bits.</summary>
    public BvTerm Bv(ulong value, uint width)
    {
        if (width < 64) value &= (1UL << (int)width) - 1;
        if (width > 64) throw new ArgumentOutOfRangeException(nameof(width), width, "numerals from a ulong are at most 64 bits wide");
        return new(this, Own(Z3Native.Z3_mk_unsigned_int64(Raw, value, BvSort(width))), width);
    }

    public BoolTerm True => new(this, Own(Z3Native.Z3_mk_true(Raw)));
    public BoolTerm False => new(this, Own(Z3Native.Z3_mk_false(Raw)));
    public BoolTerm Bool(bool value) => value ? True : False;

    public BoolTerm And(params BoolTerm[] terms) => terms.Length == 0 ? True
        : new(this, Own(Z3Native.Z3_mk_and(Raw, (uint)terms.Length, terms.Select(t => t.Ast).ToArray())));

    public BoolTerm Or(params BoolTerm[] terms) => terms.Length == 0 ? False
        : new(this, Own(Z3Native.Z3_mk_or(Raw, (uint)terms.Length, terms.Select(t => t.Ast).ToArray())));

    /// <summary>Z3's simplifier; a ground term comes back as a numeral or true/false.</summary>
    public T Simplify<T>(T term) where T : Term => (T)term.Rewrap(Own(Z3Native.Z3_simplify(Raw, term.Ast)));

    /// <summary>Replaces each variable in <paramref name="pairs"/> by its value (Z3_substitute).</summary>
    public T Substitute<T>(T term, IReadOnlyList<(Term Var, Term Value)> pairs) where T : Term =>
        (T)term.Rewrap(Own(Z3Native.Z3_substitute(Raw, term.Ast, (uint)pairs.Count,
            pairs.Select(p => p.Var.Ast).ToArray(), pairs.Select(p => p.Value.Ast).ToArray())));

    /// <summary>An empty model to fill with <see cref="Z3Model.Set"/> (for evaluating terms on chosen inputs).</summary>
    public Z3Model NewModel() => new(this, Z3Native.Z3_mk_model(Raw));

    /// <summary>A solver; with <paramref name="logic"/> (e.g. "QF_BV", which bit-blasts to SAT) one tuned for it.</summary>
    public Z3Solver NewSolver(string? logic = null) => new(this, logic);

    /// <summary>SMT-LIB2 text of "is <paramref name="formula"/> satisfiable" (Z3_benchmark_to_smtlib_string).</summary>
    public string ToSmtLib2(BoolTerm formula, string name)
    {
        string text = Z3Native.Text(Z3Native.Z3_benchmark_to_smtlib_string(Raw, name, "QF_BV", "unknown", "", 0, [], formula.Ast)) ?? "";
        CheckError();
        return text;
    }

    public void Dispose()
    {
        if (_handle.IsClosed) return;
        IntPtr ctx = _handle.DangerousGetHandle();
        foreach (var ast in _owned) Z3Native.Z3_dec_ref(ctx, ast);
        _owned.Clear();
        _handle.Dispose();
    }
}
