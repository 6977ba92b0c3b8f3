using DmaVerify.Proofs.Z3;
using Mono.Cecil.Cil;

namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// The ECMA-335 meaning of IL's integer instructions as bit-vector terms, with what the .NET
/// runtime adds: shift counts masked to the operand width (what C# specifies and x64/ARM64 do),
/// division and remainder truncating toward zero.
/// </summary>
internal static class IlSemantics
{
    /// <summary>int32 meets native int: the int32 is sign-extended (ECMA-335 III.1.5).</summary>
    public static (BvTerm, BvTerm) Unify(BvTerm a, BvTerm b) =>
        a.Width == b.Width ? (a, b) : a.Width < b.Width ? (a.Resize(b.Width, signed: true), b) : (a, b.Resize(a.Width, signed: true));

    public static BvTerm Binary(Code code, BvTerm a, BvTerm b, Action<string> fail)
    {
        if (code is Code.Shl or Code.Shr or Code.Shr_Un)
        {
            // The count is an int32 (or native int); only its low log2(width) bits count.
            var count = (b.Resize(32) & (a.Width - 1UL)).Resize(a.Width);
            return code == Code.Shl ? a.Shl(count) : code == Code.Shr ? a.AShr(count) : a.LShr(count);
        }
        (a, b) = Unify(a, b);
        switch (code)
        {
            case Code.Add: return a + b;
            case Code.Sub: return a - b;
            case Code.Mul: return a * b;
            case Code.And: return a & b;
            case Code.Or: return a | b;
            case Code.Xor: return a ^ b;
            case Code.Div: case Code.Div_Un: case Code.Rem: case Code.Rem_Un:
            {
                ulong? d = b.Numeral;
                bool signed = code is Code.Div or Code.Rem;
                if (d is null) fail("division by a value that is not a constant");
                else if (d == 0) fail("division by zero");
                else if (signed && d == (a.Width == 64 ? ulong.MaxValue : uint.MaxValue)) fail("signed division by −1 can overflow");
                return code switch { Code.Div => a.SDiv(b), Code.Div_Un => a.UDiv(b), Code.Rem => a.SRem(b), _ => a.URem(b) };
            }
            case Code.Ceq: return (a == b).ToBv();
            case Code.Cgt: return a.Sgt(b).ToBv();
            case Code.Cgt_Un: return (a > b).ToBv();
            case Code.Clt: return a.Slt(b).ToBv();
            case Code.Clt_Un: return (a < b).ToBv();
            default: throw new ArgumentOutOfRangeException(nameof(code), code, "not a binary integer instruction");
        }
    }

    /// <summary>The condition under which a compare-and-branch instruction jumps.</summary>
    public static BoolTerm Compare(Code code, BvTerm a, BvTerm b) => code switch
    {
        Code.Beq or Code.Beq_S => a == b,
        Code.Bne_Un or Code.Bne_Un_S => a != b,
        Code.Bge or Code.Bge_S => a.Sge(b),
        Code.Bge_Un or Code.Bge_Un_S => a >= b,
        Code.Bgt or Code.Bgt_S => a.Sgt(b),
        Code.Bgt_Un or Code.Bgt_Un_S => a > b,
        Code.Ble or Code.Ble_S => a.Sle(b),
        Code.Ble_Un or Code.Ble_Un_S => a <= b,
        Code.Blt or Code.Blt_S => a.Slt(b),
        Code.Blt_Un or Code.Blt_Un_S => a < b,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not a compare-and-branch instruction"),
    };

    /// <summary>conv.*: truncate, then widen to the stack slot by the target type's signedness;
    /// conv.i8/conv.i sign-extend an int32, conv.u8/conv.u zero-extend it.</summary>
    public static BvTerm Convert(Code code, BvTerm a) => code switch
    {
        Code.Conv_I1 => a.Resize(8).Resize(32, signed: true),
        Code.Conv_U1 => a.Resize(8).Resize(32),
        Code.Conv_I2 => a.Resize(16).Resize(32, signed: true),
        Code.Conv_U2 => a.Resize(16).Resize(32),
        Code.Conv_I4 or Code.Conv_U4 => a.Resize(32),
        Code.Conv_I8 or Code.Conv_I => a.Resize(64, signed: true),
        Code.Conv_U8 or Code.Conv_U => a.Resize(64),
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not an integer conversion"),
    };
}
