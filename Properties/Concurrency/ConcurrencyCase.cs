using System.Text;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Properties;

/// <summary>A concurrency test case: setup ops run first, then one op list per thread, run at
/// the same time.</summary>
public sealed record ConcurrencyCase(string Preset, ValueList<Op> Setup, ValueList<ValueList<Op>> Threads)
{
    public int Count => Setup.Count + Threads.Sum(t => t.Count);

    public string ToText()
    {
        var sb = new StringBuilder().Append("preset ").Append(Preset).Append('\n');
        foreach (var op in Setup) sb.Append("setup     ").Append(ScenarioPrinter.FormatOp(op)).Append('\n');
        for (int t = 0; t < Threads.Count; t++)
            foreach (var op in Threads[t]) sb.Append("thread ").Append(t).Append("  ").Append(ScenarioPrinter.FormatOp(op)).Append('\n');
        return sb.ToString();
    }
}
