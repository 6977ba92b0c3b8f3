using Mono.Cecil;

namespace DmaVerify.Proofs.Lifting;

/// <summary>
/// How a parameter, local or return type of a kernel is represented: its storage width, its
/// signedness (for widening to an IL stack slot) and whether it is a bool. Only integer and
/// boolean types are liftable.
/// </summary>
public readonly record struct KernelType(uint Width, bool Signed, bool IsBool)
{
    /// <summary>The IL evaluation-stack width of a value of this type (int32 or int64).</summary>
    public uint StackWidth => Width <= 32 ? 32u : 64u;

    public static KernelType? Of(Type type) => Of(type.FullName);

    public static KernelType? Of(TypeReference type) => Of(type.FullName);

    private static KernelType? Of(string? fullName) => fullName switch
    {
        "System.Boolean" => new(8, false, true),
        "System.Byte" => new(8, false, false),
        "System.SByte" => new(8, true, false),
        "System.Int16" => new(16, true, false),
        "System.UInt16" or "System.Char" => new(16, false, false),
        "System.Int32" => new(32, true, false),
        "System.UInt32" => new(32, false, false),
        "System.Int64" or "System.IntPtr" => new(64, true, false),
        "System.UInt64" or "System.UIntPtr" => new(64, false, false),
        _ => null,
    };
}
