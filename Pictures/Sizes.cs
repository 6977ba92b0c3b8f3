namespace DmaVerify.Pictures;

/// <summary>Byte counts for people: 4 KiB, 2 MiB, 16 EiB (a whole 64-bit space).</summary>
public static class Sizes
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>
    /// Exact whenever that stays short: in the largest binary unit the size reaches when it is a
    /// whole multiple ("2 MiB") or two decimals say it exactly ("1.5 KiB"); else in the largest
    /// smaller unit that divides it, while that takes at most four digits ("2000 MiB"); else
    /// truncated to two decimals of the largest unit and marked inexact ("~4.55 KiB").
    /// </summary>
    public static string Human(UInt128 bytes)
    {
        int top = 0;
        while (top < Units.Length - 1 && bytes >= Scale(top + 1))
            top++;
        if (top == 0) return $"{(ulong)bytes} B";

        UInt128 scale = Scale(top);
        UInt128 whole = bytes / scale, rest = bytes % scale;
        if (rest == 0) return $"{whole} {Units[top]}";
        if (rest * 100 % scale == 0) return $"{whole}{Decimals(rest, scale)} {Units[top]}";

        for (int unit = top - 1; unit >= 0; unit--)
        {
            UInt128 s = Scale(unit);
            if (bytes % s == 0 && bytes / s < 10_000) return $"{bytes / s} {Units[unit]}";
        }
        return $"~{whole}{Decimals(rest, scale)} {Units[top]}";
    }

    private static UInt128 Scale(int unit) => (UInt128)1 << (10 * unit);

    /// <summary>".5", ".25" or "" (when both decimals are zero): two decimals of rest/scale,
    /// truncated, trailing zeros dropped.</summary>
    private static string Decimals(UInt128 rest, UInt128 scale)
    {
        string digits = (rest * 100 / scale).ToString("D2").TrimEnd('0');
        return digits.Length == 0 ? "" : "." + digits;
    }

    public static string Human(ulong bytes) => Human((UInt128)bytes);
}
