using System.Reflection;

namespace DmaVerify.Fuzz.Engine;

/// <summary>How to start the running program again: its executable, plus the entry assembly
/// when it runs under the <c>dotnet</c> host.</summary>
public static class SelfCommand
{
    public static IReadOnlyList<string> Current()
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string name = Path.GetFileNameWithoutExtension(process);
        if (name == "dotnet" && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry)
            return [process, entry];
        return [process];
    }
}
