namespace DmaVerify.Proofs.Z3;

/// <summary>A Z3 term owned by its <see cref="Z3Context"/> (valid until the context is disposed).</summary>
public abstract class Term
{
    internal Term(Z3Context context, IntPtr ast)
    {
        Context = context;
        Ast = ast;
    }

    public Z3Context Context { get; }
    internal IntPtr Ast { get; }

    /// <summary>The same kind of term around another AST of the same sort.</summary>
    internal abstract Term Rewrap(IntPtr ast);

    /// <summary>Z3's hash-consing makes structurally equal terms the same AST.</summary>
    public bool SameAs(Term other) => Ast == other.Ast;

    public override string ToString() => Z3Native.Text(Z3Native.Z3_ast_to_string(Context.Raw, Ast)) ?? "";

    public override bool Equals(object? obj) => obj is Term t && t.Ast == Ast;

    public override int GetHashCode() => Ast.GetHashCode();

    protected IntPtr Own(IntPtr ast) => Context.Own(ast);

    protected void SameContext(Term other)
    {
        if (!ReferenceEquals(Context, other.Context)) throw new ArgumentException("terms of different Z3 contexts");
    }
}
