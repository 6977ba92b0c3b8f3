namespace DmaVerify.Optimized.PageTables;

/// <summary>
/// AMD K8 GART PTE (GATT entry) bits (docs/linux-facts.md#k8-gart): 32-bit entries, VALID bit 0,
/// COHERENT bit 1; PA bits 31:12 stay in PTE bits 31:12 and PA bits 39:32 go to PTE bits 11:4,
/// so physical addresses reach 2^40. One flat table over the aperture, one entry per 4 KiB.
/// </summary>
public static class GartPte
{
    public const uint Valid = 1;
    public const uint Coherent = 2;
    public const uint LowAddressMask = 0xFFFF_F000;
    public const uint HighAddressField = 0xFF0;
    /// <summary>GART_MAX_PHYS_ADDR - 1.</summary>
    public const ulong MaxPa = (1UL << 40) - 1;
    public const int PageShift = 12;

    /// <summary>GPTE_ENCODE: (pa &amp; 0xFFFFF000) | ((pa &gt;&gt; 32) &lt;&lt; 4) | VALID | COHERENT.
    /// PA bits above 39 are dropped (callers refuse such addresses first).</summary>
    public static uint Encode(ulong pa) =>
        (uint)(pa & LowAddressMask) | ((uint)((pa >> 32) & 0xFF) << 4) | Valid | Coherent;

    /// <summary>GPTE_DECODE: (pte &amp; 0xFFFFF000) | ((pte &amp; 0xFF0) &lt;&lt; 28).</summary>
    public static ulong Decode(uint pte) => (pte & LowAddressMask) | ((ulong)(pte & HighAddressField) << 28);

    public static bool IsValid(uint pte) => (pte & Valid) != 0;

    /// <summary>Slot of an aperture address.</summary>
    public static int LevelIndex(ulong iova, ulong apertureBase) => (int)((iova - apertureBase) >> PageShift);

    /// <summary>An entry as GPTE_ENCODE writes it: VALID and COHERENT set, bits 3:2 clear.</summary>
    public static bool IsCanonical(uint pte) => (pte & 0xF) == (Valid | Coherent);
}
