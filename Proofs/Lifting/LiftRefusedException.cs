namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// A method (or something it calls) is outside what the lifter translates exactly. Names the
/// method, the IL offset and the opcode, so the kernel can be changed or the obligation dropped.
/// </summary>
public sealed class LiftRefusedException(string method, int offset, string opcode, string reason)
    : Exception($"cannot lift {method} at IL_{offset:x4} ({opcode}): {reason}")
{
    public string Method { get; } = method;
    public int Offset { get; } = offset;
    public string OpCode { get; } = opcode;
    public string Reason { get; } = reason;
}
