using System.Runtime.InteropServices;

namespace DmaVerify.Proofs.Z3;

/// <summary>A Z3 context created with Z3_mk_context_rc; released with Z3_del_context.</summary>
internal sealed class ContextHandle : SafeHandle
{
    public ContextHandle(IntPtr ctx) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(ctx);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Z3Native.Z3_del_context(handle);
        return true;
    }
}

/// <summary>A reference-counted Z3 solver; holds its context alive until the solver is released.</summary>
internal sealed class SolverHandle : SafeHandle
{
    private readonly ContextHandle _context;

    public SolverHandle(ContextHandle context, IntPtr solver) : base(IntPtr.Zero, ownsHandle: true)
    {
        _context = context;
        bool added = false;
        _context.DangerousAddRef(ref added);
        Z3Native.Z3_solver_inc_ref(_context.DangerousGetHandle(), solver);
        SetHandle(solver);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Z3Native.Z3_solver_dec_ref(_context.DangerousGetHandle(), handle);
        _context.DangerousRelease();
        return true;
    }
}
