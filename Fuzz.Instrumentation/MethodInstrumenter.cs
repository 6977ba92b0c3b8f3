using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace DmaVerify.Fuzz.Instrumentation;

/// <summary>
/// Inserts the AFL edge probe into one method body (docs/fuzz-afl.md#where-probes-go): before the
/// method's first instruction, every branch and switch target, the fall-through after every
/// conditional branch and every exception-handler start. Branches and handler boundaries that
/// pointed at an instrumented instruction are re-pointed at its probe, so the probe runs on
/// every path into the block and sits inside the same protected region as the block.
/// The probe is stack-neutral:
/// <c>CoverageMap.Map[id ^ CoverageMap.PreviousLocation]++; CoverageMap.PreviousLocation = id &gt;&gt; 1;</c>
/// </summary>
internal sealed class MethodInstrumenter(FieldReference map, FieldReference previousLocation, EdgeIds ids, InstrumenterFaults faults = InstrumenterFaults.None,
    CompareHooks? compareHooks = null)
{
    /// <summary>Comparison hooks inserted by the last <see cref="Instrument"/> call.</summary>
    public int LastHooks { get; private set; }

    /// <summary>Instruments <paramref name="method"/>; returns the number of probes inserted.</summary>
    public int Instrument(MethodDefinition method)
    {
        LastHooks = 0;
        if (!method.HasBody) return 0;
        var body = method.Body;
        if (body.Instructions.Count == 0) return 0;
        var compares = compareHooks?.Find(method);

        // Ids use the offsets of the body as read, before any rewriting changes them.
        var blockStarts = BlockStarts(body);
        var originalOffsets = blockStarts.ToDictionary(i => i, i => i.Offset);

        body.SimplifyMacros(); // short branches may no longer reach once probes are inserted
        var il = body.GetILProcessor();
        var probeStart = new Dictionary<Instruction, Instruction>(blockStarts.Count);
        foreach (var start in blockStarts)
        {
            int id = ids.Of(method.MetadataToken.ToUInt32(), originalOffsets[start]);
            var probe = Probe(il, id);
            foreach (var instruction in probe)
                il.InsertBefore(start, instruction);
            probeStart[start] = probe[0];
        }

        Repoint(body, probeStart);
        if (compares is not null) LastHooks = compareHooks!.Insert(method, compares);
        body.OptimizeMacros();
        return blockStarts.Count;
    }

    /// <summary>Where probes go, in body order, each once.</summary>
    private static List<Instruction> BlockStarts(MethodBody body)
    {
        var starts = new HashSet<Instruction> { body.Instructions[0] };
        foreach (var instruction in body.Instructions)
        {
            switch (instruction.Operand)
            {
                case Instruction target:
                    starts.Add(target);
                    break;
                case Instruction[] targets:
                    foreach (var t in targets) starts.Add(t);
                    break;
            }
            if (instruction.OpCode.FlowControl == FlowControl.Cond_Branch && instruction.Next is { } fallThrough)
                starts.Add(fallThrough);
        }
        foreach (var handler in body.ExceptionHandlers)
            if (handler.HandlerStart is { } handlerStart)
                starts.Add(handlerStart);
        return body.Instructions.Where(starts.Contains).ToList();
    }

    private Instruction[] Probe(ILProcessor il, int id) =>
    [
        il.Create(OpCodes.Ldsfld, map),
        il.Create(OpCodes.Ldc_I4, id),
        il.Create(OpCodes.Ldsfld, previousLocation),
        il.Create(OpCodes.Xor),
        il.Create(OpCodes.Add),
        il.Create(OpCodes.Dup),
        il.Create(OpCodes.Ldind_U1),
        il.Create(OpCodes.Ldc_I4_1),
        il.Create(OpCodes.Add),
        il.Create(OpCodes.Conv_U1),
        il.Create(OpCodes.Stind_I1),
        il.Create(OpCodes.Ldc_I4, id >> 1),
        il.Create(OpCodes.Stsfld, previousLocation),
    ];

    private void Repoint(MethodBody body, Dictionary<Instruction, Instruction> probeStart)
    {
        var probes = new HashSet<Instruction>(probeStart.Values);
        Instruction At(Instruction i) => probeStart.TryGetValue(i, out var p) ? p : i;

        foreach (var instruction in body.Instructions)
        {
            if (probes.Contains(instruction) || faults.HasFlag(InstrumenterFaults.KeepBranchTargets)) continue;
            switch (instruction.Operand)
            {
                case Instruction target:
                    instruction.Operand = At(target);
                    break;
                case Instruction[] targets:
                    for (int k = 0; k < targets.Length; k++) targets[k] = At(targets[k]);
                    break;
            }
        }
        if (faults.HasFlag(InstrumenterFaults.KeepHandlerBoundaries)) return;
        foreach (var handler in body.ExceptionHandlers)
        {
            handler.TryStart = At(handler.TryStart);
            if (handler.TryEnd is not null) handler.TryEnd = At(handler.TryEnd);
            handler.HandlerStart = At(handler.HandlerStart);
            if (handler.HandlerEnd is not null) handler.HandlerEnd = At(handler.HandlerEnd);
            if (handler.FilterStart is not null) handler.FilterStart = At(handler.FilterStart);
        }
    }
}

/// <summary>Defects the tests plant in the instrumenter to show that its checks catch them.</summary>
[Flags]
internal enum InstrumenterFaults
{
    None = 0,
    /// <summary>Branches keep pointing at the instrumented instruction and jump over its probe.</summary>
    KeepBranchTargets = 1,
    /// <summary>Try and handler boundaries are not moved to the probes.</summary>
    KeepHandlerBoundaries = 2,
}
