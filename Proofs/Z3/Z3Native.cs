using System.Reflection;
using System.Runtime.InteropServices;

namespace DmaVerify.Proofs.Z3;

/// <summary>
/// The slice of Z3's C API (z3_api.h, 4.8.12) the binding uses. Handles are plain pointers
/// here; <see cref="Z3Context"/> and <see cref="Z3Solver"/> own them through SafeHandles.
/// </summary>
internal static class Z3Native
{
    private const string Lib = "z3";

    /// <summary>Debian ships the runtime as libz3.so.4 only (libz3.so comes with libz3-dev).</summary>
    private static readonly string[] Candidates = ["libz3.so.4", "libz3.so", "libz3"];

    static Z3Native() => NativeLibrary.SetDllImportResolver(typeof(Z3Native).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        foreach (var candidate in Candidates)
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        throw new Z3UnavailableException();
    }

    /// <summary>Loads the library now, so a missing libz3 is reported before any work starts.</summary>
    public static void EnsureLoaded()
    {
        try { _ = Z3_get_full_version(); }
        catch (DllNotFoundException) { throw new Z3UnavailableException(); }
        catch (TypeInitializationException e) when (e.InnerException is Z3UnavailableException u) { throw u; }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void ErrorHandler(IntPtr ctx, int code);

    [DllImport(Lib)] public static extern IntPtr Z3_get_full_version();
    [DllImport(Lib)] public static extern IntPtr Z3_mk_config();
    [DllImport(Lib)] public static extern void Z3_del_config(IntPtr cfg);
    [DllImport(Lib)] public static extern void Z3_set_param_value(IntPtr cfg, [MarshalAs(UnmanagedType.LPUTF8Str)] string id, [MarshalAs(UnmanagedType.LPUTF8Str)] string value);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_context_rc(IntPtr cfg);
    [DllImport(Lib)] public static extern void Z3_del_context(IntPtr ctx);
    [DllImport(Lib)] public static extern void Z3_set_error_handler(IntPtr ctx, ErrorHandler? handler);
    [DllImport(Lib)] public static extern int Z3_get_error_code(IntPtr ctx);
    [DllImport(Lib)] public static extern IntPtr Z3_get_error_msg(IntPtr ctx, int code);
    [DllImport(Lib)] public static extern void Z3_inc_ref(IntPtr ctx, IntPtr ast);
    [DllImport(Lib)] public static extern void Z3_dec_ref(IntPtr ctx, IntPtr ast);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_string_symbol(IntPtr ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bool_sort(IntPtr ctx);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bv_sort(IntPtr ctx, uint size);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_const(IntPtr ctx, IntPtr symbol, IntPtr sort);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_unsigned_int64(IntPtr ctx, ulong value, IntPtr sort);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_true(IntPtr ctx);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_false(IntPtr ctx);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_eq(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_not(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_and(IntPtr ctx, uint n, IntPtr[] args);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_or(IntPtr ctx, uint n, IntPtr[] args);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_xor(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_implies(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_ite(IntPtr ctx, IntPtr c, IntPtr t, IntPtr e);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvnot(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvneg(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvand(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvor(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvxor(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvadd(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvsub(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvmul(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvudiv(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvsdiv(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvurem(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvsrem(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvshl(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvlshr(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvashr(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvult(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvule(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvslt(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_bvsle(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_extract(IntPtr ctx, uint high, uint low, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_zero_ext(IntPtr ctx, uint i, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_sign_ext(IntPtr ctx, uint i, IntPtr a);

    [DllImport(Lib)] public static extern IntPtr Z3_simplify(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_substitute(IntPtr ctx, IntPtr a, uint n, IntPtr[] from, IntPtr[] to);
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.U1)] public static extern bool Z3_get_numeral_uint64(IntPtr ctx, IntPtr a, out ulong value);
    [DllImport(Lib)] public static extern int Z3_get_bool_value(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_get_sort(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern uint Z3_get_bv_sort_size(IntPtr ctx, IntPtr sort);
    [DllImport(Lib)] public static extern uint Z3_get_ast_hash(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_ast_to_string(IntPtr ctx, IntPtr a);
    [DllImport(Lib)] public static extern IntPtr Z3_benchmark_to_smtlib_string(IntPtr ctx, [MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string logic, [MarshalAs(UnmanagedType.LPUTF8Str)] string status,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string attributes, uint n, IntPtr[] assumptions, IntPtr formula);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_params(IntPtr ctx);
    [DllImport(Lib)] public static extern void Z3_params_inc_ref(IntPtr ctx, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_params_dec_ref(IntPtr ctx, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_params_set_uint(IntPtr ctx, IntPtr p, IntPtr key, uint value);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_solver(IntPtr ctx);
    [DllImport(Lib)] public static extern IntPtr Z3_mk_solver_for_logic(IntPtr ctx, IntPtr logic);
    [DllImport(Lib)] public static extern void Z3_solver_inc_ref(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern void Z3_solver_dec_ref(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern void Z3_solver_set_params(IntPtr ctx, IntPtr s, IntPtr p);
    [DllImport(Lib)] public static extern void Z3_solver_assert(IntPtr ctx, IntPtr s, IntPtr a);
    [DllImport(Lib)] public static extern int Z3_solver_check(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_get_model(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_get_reason_unknown(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_to_string(IntPtr ctx, IntPtr s);
    [DllImport(Lib)] public static extern IntPtr Z3_solver_get_statistics(IntPtr ctx, IntPtr s);

    [DllImport(Lib)] public static extern void Z3_stats_inc_ref(IntPtr ctx, IntPtr st);
    [DllImport(Lib)] public static extern void Z3_stats_dec_ref(IntPtr ctx, IntPtr st);
    [DllImport(Lib)] public static extern uint Z3_stats_size(IntPtr ctx, IntPtr st);
    [DllImport(Lib)] public static extern IntPtr Z3_stats_get_key(IntPtr ctx, IntPtr st, uint idx);
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.U1)] public static extern bool Z3_stats_is_uint(IntPtr ctx, IntPtr st, uint idx);
    [DllImport(Lib)] public static extern uint Z3_stats_get_uint_value(IntPtr ctx, IntPtr st, uint idx);
    [DllImport(Lib)] public static extern double Z3_stats_get_double_value(IntPtr ctx, IntPtr st, uint idx);

    [DllImport(Lib)] public static extern IntPtr Z3_mk_model(IntPtr ctx);
    [DllImport(Lib)] public static extern void Z3_model_inc_ref(IntPtr ctx, IntPtr m);
    [DllImport(Lib)] public static extern void Z3_model_dec_ref(IntPtr ctx, IntPtr m);
    [DllImport(Lib)] public static extern void Z3_add_const_interp(IntPtr ctx, IntPtr m, IntPtr decl, IntPtr value);
    [DllImport(Lib)] public static extern IntPtr Z3_get_app_decl(IntPtr ctx, IntPtr app);
    [DllImport(Lib)] [return: MarshalAs(UnmanagedType.U1)] public static extern bool Z3_model_eval(IntPtr ctx, IntPtr m, IntPtr t, [MarshalAs(UnmanagedType.U1)] bool completion, out IntPtr result);

    public static string? Text(IntPtr utf8) => utf8 == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(utf8);
}
