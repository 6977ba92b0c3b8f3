namespace DmaVerify.Native.Loading;

/// <summary>What <c>--allocator</c> names: a C shared object speaking the ABI of
/// <c>Native/include/dmaverify_iova.h</c>, or a .NET type implementing
/// <see cref="Optimized.Iova.IIovaAllocator"/>.</summary>
public enum AllocatorKind { NativeLibrary, ManagedType }

/// <summary>
/// A parsed <c>--allocator</c> value: <c>PATH.so</c> (any file that is not <c>PATH.dll:Type</c>)
/// or <c>PATH.dll:Namespace.Type</c>. <see cref="Path"/> is absolute, so the spec means the same
/// file in a host process or a benchmark child. <see cref="Name"/> is the implementation name
/// the allocator gets (<c>--impl NAME</c>, table columns): the file name without <c>.so</c>, or
/// the type's name.
/// </summary>
public sealed record AllocatorSpec(AllocatorKind Kind, string Path, string? TypeName)
{
    public string Name => Kind == AllocatorKind.ManagedType
        ? TypeName![(TypeName!.LastIndexOf('.') + 1)..]
        : LibraryName(System.IO.Path.GetFileName(Path));

    public override string ToString() => Kind == AllocatorKind.ManagedType ? $"{Path}:{TypeName}" : Path;

    /// <summary>Parses and checks that the file exists; false with one line naming the problem.</summary>
    public static bool TryParse(string text, out AllocatorSpec spec, out string error)
    {
        spec = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "--allocator needs PATH.so or PATH.dll:Namespace.Type";
            return false;
        }
        int dll = text.LastIndexOf(".dll:", StringComparison.OrdinalIgnoreCase);
        if (dll >= 0)
        {
            string path = text[..(dll + 4)], type = text[(dll + 5)..];
            if (type.Length == 0 || type.Contains(':') || type.Contains('/'))
            {
                error = $"--allocator {text}: after PATH.dll: comes a type name, Namespace.Type";
                return false;
            }
            return TryFile(text, path, out string full, out error) && Done(new AllocatorSpec(AllocatorKind.ManagedType, full, type), out spec);
        }
        if (text.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            error = $"--allocator {text}: a .NET allocator is named PATH.dll:Namespace.Type (the type implementing IIovaAllocator)";
            return false;
        }
        return TryFile(text, text, out string native, out error) && Done(new AllocatorSpec(AllocatorKind.NativeLibrary, native, null), out spec);
    }

    private static bool Done(AllocatorSpec made, out AllocatorSpec spec)
    {
        spec = made;
        return true;
    }

    private static bool TryFile(string text, string path, out string full, out string error)
    {
        full = "";
        error = "";
        try
        {
            full = System.IO.Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            error = $"--allocator {text}: not a usable path ({e.Message})";
            return false;
        }
        if (Directory.Exists(full))
        {
            error = $"--allocator {text}: is a folder, not a shared object or assembly";
            return false;
        }
        if (!File.Exists(full))
        {
            error = $"--allocator {text}: no such file";
            return false;
        }
        return true;
    }

    /// <summary>libmine.so → libmine; libmine.so.1 → libmine; anything else keeps its name.</summary>
    private static string LibraryName(string file)
    {
        int so = file.IndexOf(".so", StringComparison.Ordinal);
        while (so >= 0 && so + 3 < file.Length && file[so + 3] != '.')
            so = file.IndexOf(".so", so + 1, StringComparison.Ordinal);
        return so > 0 ? file[..so] : file;
    }
}
