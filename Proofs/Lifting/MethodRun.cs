using DmaVerify.Proofs.Z3;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// Symbolic execution of one method body. Paths wait at their next instruction and the lowest
/// offset runs first, so every path that joins at an instruction arrives before it runs and is
/// merged into one state there (no path explosion on if/else chains). A backward branch must
/// be decided by known values: that unrolls constant-bound loops and refuses all others.
/// </summary>
internal sealed class MethodRun(IlLifter lifter, MethodDefinition method, string name, int depth)
{
    private const int Exit = int.MaxValue;
    private readonly Z3Context _z3 = lifter.Context;
    private readonly IList<Instruction> _code = method.Body.Instructions;
    private readonly Dictionary<Instruction, int> _index = method.Body.Instructions.Select((ins, i) => (ins, i)).ToDictionary(p => p.ins, p => p.i);
    private readonly SortedDictionary<int, LiftState> _waiting = [];
    private readonly KernelType?[] _argTypes = method.Parameters.Select(p => KernelType.Of(p.ParameterType)).ToArray();
    private readonly KernelType?[] _localTypes = method.Body.Variables.Select(v => KernelType.Of(v.VariableType)).ToArray();

    public BvTerm Run(LiftState initial)
    {
        Arrive(0, initial);
        while (true)
        {
            var (at, state) = _waiting.First();
            _waiting.Remove(at);
            if (at == Exit) return state.Stack[0];
            Execute(at, state);
        }
    }

    private void Arrive(int at, LiftState state)
    {
        _waiting[at] = _waiting.TryGetValue(at, out var other) ? LiftState.Merge(other, state, $"{name} IL #{at}") : state;
    }

    private void Execute(int at, LiftState s)
    {
        var ins = _code[at];
        string op = ins.OpCode.Name;
        lifter.Step(name, ins.Offset, op);
        void Fail(string reason) => throw new LiftRefusedException(name, ins.Offset, op, reason);
        BvTerm Pop() { var v = s.Stack[^1]; s.Stack.RemoveAt(s.Stack.Count - 1); return v; }
        void Push(BvTerm v) => s.Stack.Add(v);
        void Next() => Arrive(at + 1, s);

        switch (ins.OpCode.Code)
        {
            case Code.Nop: Next(); return;
            case Code.Ldarg_0: case Code.Ldarg_1: case Code.Ldarg_2: case Code.Ldarg_3:
                Push(LoadArg(s, ins.OpCode.Code - Code.Ldarg_0)); Next(); return;
            case Code.Ldarg_S: case Code.Ldarg:
                Push(LoadArg(s, ((ParameterDefinition)ins.Operand).Index)); Next(); return;
            case Code.Starg_S: case Code.Starg:
            {
                int i = ((ParameterDefinition)ins.Operand).Index;
                s.Args[i] = Pop().Resize(_argTypes[i]!.Value.Width); Next(); return;
            }
            case Code.Ldloc_0: case Code.Ldloc_1: case Code.Ldloc_2: case Code.Ldloc_3:
                Push(LoadLocal(s, ins.OpCode.Code - Code.Ldloc_0)); Next(); return;
            case Code.Ldloc_S: case Code.Ldloc:
                Push(LoadLocal(s, ((VariableDefinition)ins.Operand).Index)); Next(); return;
            case Code.Stloc_0: case Code.Stloc_1: case Code.Stloc_2: case Code.Stloc_3:
                StoreLocal(s, ins.OpCode.Code - Code.Stloc_0, Pop()); Next(); return;
            case Code.Stloc_S: case Code.Stloc:
                StoreLocal(s, ((VariableDefinition)ins.Operand).Index, Pop()); Next(); return;
            case Code.Ldc_I4_M1: Push(_z3.Bv(unchecked((ulong)-1), 32)); Next(); return;
            case >= Code.Ldc_I4_0 and <= Code.Ldc_I4_8:
                Push(_z3.Bv((ulong)(ins.OpCode.Code - Code.Ldc_I4_0), 32)); Next(); return;
            case Code.Ldc_I4_S: Push(_z3.Bv(unchecked((ulong)(sbyte)ins.Operand), 32)); Next(); return;
            case Code.Ldc_I4: Push(_z3.Bv(unchecked((ulong)(int)ins.Operand), 32)); Next(); return;
            case Code.Ldc_I8: Push(_z3.Bv(unchecked((ulong)(long)ins.Operand), 64)); Next(); return;
            case Code.Dup: { var v = Pop(); Push(v); Push(v); Next(); return; }
            case Code.Pop: Pop(); Next(); return;

            case Code.Add: case Code.Sub: case Code.Mul: case Code.And: case Code.Or: case Code.Xor:
            case Code.Div: case Code.Div_Un: case Code.Rem: case Code.Rem_Un:
            case Code.Shl: case Code.Shr: case Code.Shr_Un:
            case Code.Ceq: case Code.Cgt: case Code.Cgt_Un: case Code.Clt: case Code.Clt_Un:
            {
                var b = Pop();
                var a = Pop();
                Push(Fold(IlSemantics.Binary(ins.OpCode.Code, a, b, Fail), a, b));
                Next(); return;
            }
            case Code.Neg: { var a = Pop(); Push(Fold(-a, a)); Next(); return; }
            case Code.Not: { var a = Pop(); Push(Fold(~a, a)); Next(); return; }
            case Code.Conv_I1: case Code.Conv_U1: case Code.Conv_I2: case Code.Conv_U2:
            case Code.Conv_I4: case Code.Conv_U4: case Code.Conv_I8: case Code.Conv_U8:
            case Code.Conv_I: case Code.Conv_U:
            {
                var a = Pop();
                Push(Fold(IlSemantics.Convert(ins.OpCode.Code, a), a)); Next(); return;
            }

            case Code.Br: case Code.Br_S:
                Arrive(Target(ins), s); return;
            case Code.Brtrue: case Code.Brtrue_S: case Code.Brfalse: case Code.Brfalse_S:
            {
                var v = Pop();
                var nonZero = v != 0UL;
                bool onTrue = ins.OpCode.Code is Code.Brtrue or Code.Brtrue_S;
                Branch(at, ins, s, onTrue ? nonZero : !nonZero, v.Numeral is not null, Fail);
                return;
            }
            case Code.Beq: case Code.Beq_S: case Code.Bne_Un: case Code.Bne_Un_S:
            case Code.Bge: case Code.Bge_S: case Code.Bge_Un: case Code.Bge_Un_S:
            case Code.Bgt: case Code.Bgt_S: case Code.Bgt_Un: case Code.Bgt_Un_S:
            case Code.Ble: case Code.Ble_S: case Code.Ble_Un: case Code.Ble_Un_S:
            case Code.Blt: case Code.Blt_S: case Code.Blt_Un: case Code.Blt_Un_S:
            {
                var b = Pop();
                var a = Pop();
                (a, b) = IlSemantics.Unify(a, b);
                Branch(at, ins, s, IlSemantics.Compare(ins.OpCode.Code, a, b), a.Numeral is not null && b.Numeral is not null, Fail);
                return;
            }
            case Code.Ret:
                if (method.ReturnType.FullName == "System.Void") Fail("void methods compute nothing to lift");
                if (s.Stack.Count != 1) Fail($"returns with {s.Stack.Count} values on the stack");
                Arrive(Exit, s);
                return;
            case Code.Call:
            {
                var target = (MethodReference)ins.Operand;
                if (target.HasThis) Fail($"calls instance method {target.FullName}");
                var args = new BvTerm[target.Parameters.Count];
                for (int i = args.Length - 1; i >= 0; i--) args[i] = Pop();
                var result = lifter.LiftCall(target, args, depth, r => Fail(r));
                var type = KernelType.Of(target.ReturnType)!.Value;
                Push(result is BoolTerm flag ? flag.ToBv(32) : IlLifter.ToStack(type, (BvTerm)result));
                Next(); return;
            }
            case Code.Ldsfld: case Code.Ldsflda: case Code.Stsfld:
                Fail("static fields are state, not arguments"); return;
            case Code.Add_Ovf: case Code.Add_Ovf_Un: case Code.Sub_Ovf: case Code.Sub_Ovf_Un: case Code.Mul_Ovf: case Code.Mul_Ovf_Un:
                Fail("checked arithmetic can throw"); return;
            default:
                Fail("outside integer and boolean arithmetic, branches and static calls"); return;
        }
    }

    private BvTerm LoadArg(LiftState s, int i) => IlLifter.ToStack(_argTypes[i]!.Value, s.Args[i]);

    private BvTerm LoadLocal(LiftState s, int i) => IlLifter.ToStack(_localTypes[i]!.Value, s.Locals[i]);

    /// <summary>Storing into a small local truncates, as the CLI specifies.</summary>
    private void StoreLocal(LiftState s, int i, BvTerm v) => s.Locals[i] = v.Resize(_localTypes[i]!.Value.Width);

    /// <summary>Operations on numerals are evaluated now, so loop counters stay concrete.</summary>
    private BvTerm Fold(BvTerm result, params BvTerm[] operands) =>
        operands.All(o => o.Numeral is not null) ? _z3.Simplify(result) : result;

    private int Target(Instruction ins) => _index[(Instruction)ins.Operand];

    private void Branch(int at, Instruction ins, LiftState s, BoolTerm taken, bool known, Action<string> fail)
    {
        int target = Target(ins);
        if (known)
        {
            bool jump = _z3.Simplify(taken).Literal ?? throw new InvalidOperationException($"{name}: a branch on numerals did not simplify");
            Arrive(jump ? target : at + 1, s);
            return;
        }
        if (target <= at)
            fail("a backward branch (loop) whose condition depends on the inputs: only loops with a constant bound are lifted");
        Arrive(target, s.With(s.And(taken)));
        Arrive(at + 1, s.With(s.And(!taken)));
    }
}
