using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>What a value on the IL evaluation stack is, as far as comparison hooks care.</summary>
internal enum StackKind : byte { Unknown, Int32, Int64, NativeInt, Float, Reference }

/// <summary>
/// The kinds of the values on the evaluation stack before each instruction of a method body,
/// by one forward pass over the control flow (the CLI guarantees every path into an
/// instruction brings the same stack shape, so the first state that reaches it is kept). Just
/// enough typing to tell a 64-bit integer comparison from a 32-bit one: anything it cannot
/// type is <see cref="StackKind.Unknown"/>, and a body it cannot follow gives null.
/// </summary>
internal static class StackKinds
{
    /// <summary>The stack before each reachable instruction (top last), or null.</summary>
    public static Dictionary<Instruction, StackKind[]>? Before(MethodDefinition method)
    {
        var body = method.Body;
        var states = new Dictionary<Instruction, StackKind[]>();
        var work = new Stack<Instruction>();
        void Reach(Instruction target, StackKind[] stack)
        {
            if (states.TryAdd(target, stack)) work.Push(target);
        }
        Reach(body.Instructions[0], []);
        foreach (var handler in body.ExceptionHandlers)
        {
            bool withException = handler.HandlerType is ExceptionHandlerType.Catch or ExceptionHandlerType.Filter;
            if (handler.HandlerStart is { } start) Reach(start, withException ? [StackKind.Reference] : []);
            if (handler.FilterStart is { } filter) Reach(filter, [StackKind.Reference]);
        }
        while (work.Count > 0)
        {
            var instruction = work.Pop();
            var after = Step(method, instruction, states[instruction]);
            if (after is null) return null;
            var flow = instruction.OpCode.FlowControl;
            if (instruction.OpCode.Code is Code.Leave or Code.Leave_S)
            {
                Reach((Instruction)instruction.Operand, []);
                continue;
            }
            switch (instruction.Operand)
            {
                case Instruction target when flow is FlowControl.Branch or FlowControl.Cond_Branch:
                    Reach(target, after);
                    break;
                case Instruction[] targets:
                    foreach (var t in targets) Reach(t, after);
                    break;
            }
            if (flow is not (FlowControl.Branch or FlowControl.Return or FlowControl.Throw) && instruction.Next is { } next
                && instruction.OpCode.Code is not (Code.Endfinally or Code.Endfilter or Code.Jmp))
                Reach(next, after);
        }
        return states;
    }

    /// <summary>The stack after <paramref name="i"/>, or null when it cannot be followed.</summary>
    private static StackKind[]? Step(MethodDefinition method, Instruction i, StackKind[] before)
    {
        var op = i.OpCode;
        int pops = op.StackBehaviourPop switch
        {
            StackBehaviour.Pop0 => 0,
            StackBehaviour.Pop1 or StackBehaviour.Popi or StackBehaviour.Popref => 1,
            StackBehaviour.Pop1_pop1 or StackBehaviour.Popi_pop1 or StackBehaviour.Popi_popi or StackBehaviour.Popi_popi8
                or StackBehaviour.Popi_popr4 or StackBehaviour.Popi_popr8 or StackBehaviour.Popref_pop1 or StackBehaviour.Popref_popi => 2,
            StackBehaviour.Popi_popi_popi or StackBehaviour.Popref_popi_popi or StackBehaviour.Popref_popi_popi8
                or StackBehaviour.Popref_popi_popr4 or StackBehaviour.Popref_popi_popr8 or StackBehaviour.Popref_popi_popref => 3,
            StackBehaviour.PopAll => before.Length,
            StackBehaviour.Varpop => VarPops(method, i),
            _ => -1,
        };
        if (pops < 0 || pops > before.Length) return null;
        var popped = before.AsSpan(before.Length - pops);
        StackKind[] pushes;
        switch (op.StackBehaviourPush)
        {
            case StackBehaviour.Push0: pushes = []; break;
            case StackBehaviour.Pushi: pushes = [op.Code is Code.Ldlen or Code.Conv_I or Code.Conv_U or Code.Conv_Ovf_I or Code.Conv_Ovf_U
                or Code.Conv_Ovf_I_Un or Code.Conv_Ovf_U_Un or Code.Localloc or Code.Ldftn or Code.Ldvirtftn
                or Code.Ldloca or Code.Ldloca_S or Code.Ldarga or Code.Ldarga_S or Code.Ldflda or Code.Ldsflda or Code.Ldelema
                ? StackKind.NativeInt : StackKind.Int32]; break;
            case StackBehaviour.Pushi8: pushes = [StackKind.Int64]; break;
            case StackBehaviour.Pushr4 or StackBehaviour.Pushr8: pushes = [StackKind.Float]; break;
            case StackBehaviour.Pushref: pushes = [StackKind.Reference]; break;
            case StackBehaviour.Push1_push1: pushes = [popped[0], popped[0]]; break;
            case StackBehaviour.Push1: pushes = [Push1(method, i, popped)]; break;
            case StackBehaviour.Varpush: pushes = VarPush(i) is { } pushed ? [pushed] : []; break;
            default: return null;
        }
        var after = new StackKind[before.Length - pops + pushes.Length];
        before.AsSpan(0, before.Length - pops).CopyTo(after);
        pushes.CopyTo(after.AsSpan(before.Length - pops));
        return after;
    }

    private static int VarPops(MethodDefinition method, Instruction i) => i.Operand switch
    {
        MethodReference m when i.OpCode.Code == Code.Newobj => m.Parameters.Count,
        MethodReference m => m.Parameters.Count + (m.HasThis && !m.ExplicitThis ? 1 : 0),
        CallSite site => site.Parameters.Count + (site.HasThis && !site.ExplicitThis ? 1 : 0) + 1,
        _ when i.OpCode.Code == Code.Ret => method.ReturnType.MetadataType == MetadataType.Void ? 0 : 1,
        _ => -1,
    };

    private static StackKind? VarPush(Instruction i) => i.Operand switch
    {
        MethodReference m when i.OpCode.Code == Code.Newobj => KindOf(m.DeclaringType),
        MethodReference m => m.ReturnType.MetadataType == MetadataType.Void ? null : KindOf(m.ReturnType),
        CallSite site => site.ReturnType.MetadataType == MetadataType.Void ? null : KindOf(site.ReturnType),
        _ => null,
    };

    /// <summary>The kind a Push1 opcode leaves: a local's, an argument's, a field's, an
    /// element's, or an arithmetic result (the kind of its first operand).</summary>
    private static StackKind Push1(MethodDefinition method, Instruction i, ReadOnlySpan<StackKind> popped)
    {
        var body = method.Body;
        switch (i.OpCode.Code)
        {
            case Code.Ldloc_0: return KindOf(body.Variables[0].VariableType);
            case Code.Ldloc_1: return KindOf(body.Variables[1].VariableType);
            case Code.Ldloc_2: return KindOf(body.Variables[2].VariableType);
            case Code.Ldloc_3: return KindOf(body.Variables[3].VariableType);
            case Code.Ldloc or Code.Ldloc_S: return KindOf(((VariableDefinition)i.Operand).VariableType);
            case Code.Ldarg_0: return Argument(method, 0);
            case Code.Ldarg_1: return Argument(method, 1);
            case Code.Ldarg_2: return Argument(method, 2);
            case Code.Ldarg_3: return Argument(method, 3);
            case Code.Ldarg or Code.Ldarg_S:
                return i.Operand is ParameterDefinition p ? (p == body.ThisParameter ? ThisKind(method) : KindOf(p.ParameterType)) : StackKind.Unknown;
            case Code.Ldfld or Code.Ldsfld: return KindOf(((FieldReference)i.Operand).FieldType);
            case Code.Ldobj or Code.Ldelem_Any or Code.Unbox_Any: return KindOf((TypeReference)i.Operand);
        }
        // Arithmetic, bitwise, shifts, neg/not: the result has its first operand's kind.
        return popped.Length > 0 ? popped[0] : StackKind.Unknown;
    }

    private static StackKind Argument(MethodDefinition method, int index)
    {
        if (method.HasThis)
        {
            if (index == 0) return ThisKind(method);
            index--;
        }
        return index < method.Parameters.Count ? KindOf(method.Parameters[index].ParameterType) : StackKind.Unknown;
    }

    private static StackKind ThisKind(MethodDefinition method) =>
        method.DeclaringType.IsValueType ? StackKind.NativeInt : StackKind.Reference;

    /// <summary>The stack kind of a value of <paramref name="type"/> (enums by their underlying type).</summary>
    public static StackKind KindOf(TypeReference type)
    {
        while (type is IModifierType or PinnedType) type = ((TypeSpecification)type).ElementType;
        switch (type.MetadataType)
        {
            case MetadataType.Int64 or MetadataType.UInt64: return StackKind.Int64;
            case MetadataType.Boolean or MetadataType.Char or MetadataType.SByte or MetadataType.Byte or MetadataType.Int16
                or MetadataType.UInt16 or MetadataType.Int32 or MetadataType.UInt32: return StackKind.Int32;
            case MetadataType.IntPtr or MetadataType.UIntPtr or MetadataType.Pointer or MetadataType.ByReference or MetadataType.FunctionPointer:
                return StackKind.NativeInt;
            case MetadataType.Single or MetadataType.Double: return StackKind.Float;
            case MetadataType.String or MetadataType.Object or MetadataType.Class or MetadataType.Array: return StackKind.Reference;
            case MetadataType.ValueType:
                try
                {
                    if (type.Resolve() is { IsEnum: true } e)
                        return KindOf(e.Fields.First(f => !f.IsStatic).FieldType);
                }
                catch (AssemblyResolutionException) { }
                return StackKind.Unknown;
            case MetadataType.GenericInstance:
                return ((GenericInstanceType)type).ElementType.IsValueType ? StackKind.Unknown : StackKind.Reference;
            default:
                return StackKind.Unknown;
        }
    }
}
