namespace DmaVerify.Native.Loading;

/// <summary>Loads what a spec names into this process.</summary>
public static class AllocatorSources
{
    /// <summary>Throws <see cref="AllocatorLoadException"/> with one line naming the problem.</summary>
    public static IAllocatorSource Load(AllocatorSpec spec) => spec.Kind == AllocatorKind.NativeLibrary
        ? NativeIovaLibrary.Load(spec.Path)
        : ManagedAllocatorType.Load(spec.Path, spec.TypeName!);
}
