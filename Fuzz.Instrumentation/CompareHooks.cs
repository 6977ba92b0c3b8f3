using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Comparison hooks (the fuzzer's <c>-use_value_profile=1</c>): before every comparison of two
/// 64-bit integers — <c>ceq</c>, <c>cgt</c>, <c>clt</c> (signed or not), the compare-and-branch
/// opcodes, and <c>brtrue</c>/<c>brfalse</c> on a 64-bit value (a comparison with 0) — the
/// operands are saved to two locals, passed with the site's id to
/// <c>CmpTrace.Compare64(ulong, ulong, int)</c>, and put back, so the comparison runs as
/// before. The stack is typed by <see cref="StackKinds"/>; a comparison whose operands it cannot
/// type as 64-bit integers is left alone. Sites are found on the body as read, hooks are
/// inserted after the edge probes (a hooked comparison that starts a block keeps its probe
/// first; every branch already points at the probe).
/// </summary>
internal sealed class CompareHooks(MethodReference compare64, EdgeIds ids)
{
    /// <summary>The comparisons of a body to hook, with their original IL offsets (for ids).</summary>
    public List<(Instruction Compare, int Offset, bool WithZero)> Find(MethodDefinition method)
    {
        var found = new List<(Instruction, int, bool)>();
        if (!method.HasBody || method.Body.Instructions.Count == 0) return found;
        var stacks = StackKinds.Before(method);
        if (stacks is null) return found;
        foreach (var instruction in method.Body.Instructions)
        {
            if (!stacks.TryGetValue(instruction, out var stack)) continue; // unreachable
            var code = instruction.OpCode.Code;
            if (IsTwoOperandCompare(code) && stack.Length >= 2 && stack[^1] == StackKind.Int64 && stack[^2] == StackKind.Int64)
                found.Add((instruction, instruction.Offset, false));
            else if (code is Code.Brtrue or Code.Brtrue_S or Code.Brfalse or Code.Brfalse_S && stack.Length >= 1 && stack[^1] == StackKind.Int64)
                found.Add((instruction, instruction.Offset, true));
        }
        return found;
    }

    private static bool IsTwoOperandCompare(Code code) => code is
        Code.Ceq or Code.Cgt or Code.Cgt_Un or Code.Clt or Code.Clt_Un or
        Code.Beq or Code.Beq_S or Code.Bne_Un or Code.Bne_Un_S or
        Code.Bge or Code.Bge_S or Code.Bge_Un or Code.Bge_Un_S or Code.Bgt or Code.Bgt_S or Code.Bgt_Un or Code.Bgt_Un_S or
        Code.Ble or Code.Ble_S or Code.Ble_Un or Code.Ble_Un_S or Code.Blt or Code.Blt_S or Code.Blt_Un or Code.Blt_Un_S;

    /// <summary>Inserts a hook before each site; returns how many.</summary>
    public int Insert(MethodDefinition method, List<(Instruction Compare, int Offset, bool WithZero)> sites)
    {
        if (sites.Count == 0) return 0;
        var body = method.Body;
        var u64 = method.Module.TypeSystem.UInt64;
        var left = new VariableDefinition(u64);
        var right = new VariableDefinition(u64);
        body.Variables.Add(left);
        body.Variables.Add(right);
        var il = body.GetILProcessor();
        foreach (var (compare, offset, withZero) in sites)
        {
            int id = ids.Of(method.MetadataToken.ToUInt32(), offset);
            Instruction[] hook = withZero
                ?
                [
                    il.Create(OpCodes.Stloc, left), il.Create(OpCodes.Ldloc, left), il.Create(OpCodes.Ldc_I8, 0L),
                    il.Create(OpCodes.Ldc_I4, id), il.Create(OpCodes.Call, compare64), il.Create(OpCodes.Ldloc, left),
                ]
                :
                [
                    il.Create(OpCodes.Stloc, right), il.Create(OpCodes.Stloc, left), il.Create(OpCodes.Ldloc, left), il.Create(OpCodes.Ldloc, right),
                    il.Create(OpCodes.Ldc_I4, id), il.Create(OpCodes.Call, compare64), il.Create(OpCodes.Ldloc, left), il.Create(OpCodes.Ldloc, right),
                ];
            foreach (var instruction in hook) il.InsertBefore(compare, instruction);
        }
        return sites.Count;
    }
}
