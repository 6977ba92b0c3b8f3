namespace DmaVerify.Proofs.Z3;

/// <summary>A model: from a satisfiable check, or built with <see cref="Set"/> to evaluate terms on inputs.</summary>
public sealed class Z3Model : IDisposable
{
    private readonly Z3Context _context;
    private IntPtr _model;

    internal Z3Model(Z3Context context, IntPtr model)
    {
        _context = context;
        _context.CheckError();
        _model = model;
        Z3Native.Z3_model_inc_ref(context.Raw, model);
    }

    /// <summary>Gives <paramref name="variable"/> (a constant made by BvVar/BoolVar) the value <paramref name="value"/>.</summary>
    public void Set(Term variable, Term value)
    {
        IntPtr decl = Z3Native.Z3_get_app_decl(_context.Raw, variable.Ast);
        _context.CheckError();
        Z3Native.Z3_add_const_interp(_context.Raw, _model, decl, value.Ast);
        _context.CheckError();
    }

    /// <summary>The value of <paramref name="term"/> in this model (unconstrained variables read as 0).</summary>
    public ulong Eval(BvTerm term)
    {
        if (term.Width > 64) throw new ArgumentException($"a {term.Width}-bit term does not fit a ulong");
        var value = EvalTerm(term);
        return value.Numeral ?? throw new Z3Exception($"model evaluation of {term} is not a numeral: {value}");
    }

    public bool Eval(BoolTerm term) => EvalTerm(term).Literal ?? throw new Z3Exception($"model evaluation of {term} is not true/false");

    private T EvalTerm<T>(T term) where T : Term
    {
        if (!Z3Native.Z3_model_eval(_context.Raw, Model, term.Ast, true, out IntPtr result))
        {
            _context.CheckError();
            throw new Z3Exception($"Z3_model_eval failed on {term}");
        }
        return (T)term.Rewrap(_context.Own(result));
    }

    private IntPtr Model => _model != IntPtr.Zero ? _model : throw new ObjectDisposedException(nameof(Z3Model));

    public void Dispose()
    {
        if (_model == IntPtr.Zero) return;
        Z3Native.Z3_model_dec_ref(_context.Raw, _model);
        _model = IntPtr.Zero;
    }
}
