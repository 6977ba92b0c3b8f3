namespace DmaVerify.Proofs.Z3;

/// <summary>The answer of a check.</summary>
public enum CheckResult { Unsat, Sat, Unknown }

/// <summary>
/// A Z3 solver behind a SafeHandle. <see cref="Check"/> takes a resource limit (Z3's rlimit,
/// a count of internal steps) instead of a wall-clock timeout, so the same query gives the same
/// answer on a loaded machine.
/// </summary>
public sealed class Z3Solver : IDisposable
{
    private readonly Z3Context _context;
    private readonly SolverHandle _handle;

    internal Z3Solver(Z3Context context, string? logic)
    {
        _context = context;
        IntPtr solver = logic is null
            ? Z3Native.Z3_mk_solver(context.Raw)
            : Z3Native.Z3_mk_solver_for_logic(context.Raw, Z3Native.Z3_mk_string_symbol(context.Raw, logic));
        context.CheckError();
        _handle = new SolverHandle(context.Handle, solver);
    }

    private IntPtr Raw => _handle.IsClosed ? throw new ObjectDisposedException(nameof(Z3Solver)) : _handle.DangerousGetHandle();

    public void Assert(BoolTerm fact)
    {
        Z3Native.Z3_solver_assert(_context.Raw, Raw, fact.Ast);
        _context.CheckError();
    }

    /// <summary>Checks the assertions, giving up (Unknown) after <paramref name="rlimit"/> resource units (0 = no limit).</summary>
    public CheckResult Check(uint rlimit)
    {
        IntPtr p = Z3Native.Z3_mk_params(_context.Raw);
        Z3Native.Z3_params_inc_ref(_context.Raw, p);
        try
        {
            Z3Native.Z3_params_set_uint(_context.Raw, p, Z3Native.Z3_mk_string_symbol(_context.Raw, "rlimit"), rlimit);
            Z3Native.Z3_solver_set_params(_context.Raw, Raw, p);
            _context.CheckError();
        }
        finally { Z3Native.Z3_params_dec_ref(_context.Raw, p); }
        int r = Z3Native.Z3_solver_check(_context.Raw, Raw);
        _context.CheckError();
        return r switch { 1 => CheckResult.Sat, -1 => CheckResult.Unsat, _ => CheckResult.Unknown };
    }

    /// <summary>Why the last check answered Unknown (e.g. "max. resource limit exceeded").</summary>
    public string ReasonUnknown => Z3Native.Text(Z3Native.Z3_solver_get_reason_unknown(_context.Raw, Raw)) ?? "";

    /// <summary>The model of the last Sat check.</summary>
    public Z3Model Model() => new(_context, Z3Native.Z3_solver_get_model(_context.Raw, Raw));

    /// <summary>Resource units the solver used so far (the "rlimit count" statistic), 0 if not reported.</summary>
    public ulong ResourceUsed
    {
        get
        {
            IntPtr st = Z3Native.Z3_solver_get_statistics(_context.Raw, Raw);
            Z3Native.Z3_stats_inc_ref(_context.Raw, st);
            try
            {
                uint n = Z3Native.Z3_stats_size(_context.Raw, st);
                for (uint i = 0; i < n; i++)
                    if (Z3Native.Text(Z3Native.Z3_stats_get_key(_context.Raw, st, i)) == "rlimit count")
                        return Z3Native.Z3_stats_is_uint(_context.Raw, st, i)
                            ? Z3Native.Z3_stats_get_uint_value(_context.Raw, st, i)
                            : (ulong)Z3Native.Z3_stats_get_double_value(_context.Raw, st, i);
                return 0;
            }
            finally { Z3Native.Z3_stats_dec_ref(_context.Raw, st); }
        }
    }

    /// <summary>The solver's assertions as SMT-LIB2 text (Z3_solver_to_string).</summary>
    public override string ToString() => Z3Native.Text(Z3Native.Z3_solver_to_string(_context.Raw, Raw)) ?? "";

    public void Dispose() => _handle.Dispose();
}
