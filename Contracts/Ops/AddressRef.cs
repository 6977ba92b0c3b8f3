namespace DmaVerify.Contracts;

/// <summary>
/// How an op names a DMA address it was handed earlier. Generated and fuzzed sequences use
/// <see cref="LiveRef"/> (the n-th live DMA-API mapping of the device, in creation order, plus
/// an offset), so they hit real mappings; <see cref="RawRef"/> names a raw bus address and is
/// how misuse (double unmap, unknown handle) is exercised.
/// Text form: <c>#2</c>, <c>#2+0x10</c>, or <c>0x1234000</c>.
/// </summary>
public abstract record AddressRef;

public sealed record LiveRef(int Index, ulong Offset = 0) : AddressRef
{
    public override string ToString() => Offset == 0 ? $"#{Index}" : $"#{Index}+{Hex.Format(Offset)}";
}

public sealed record RawRef(ulong Address) : AddressRef
{
    public override string ToString() => Hex.Format(Address);
}
