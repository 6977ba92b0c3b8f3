using System.Text;
using DmaVerify.Contracts;
using DmaVerify.Model;

namespace DmaVerify.Harness;

/// <summary>One call in a concurrent history: which thread made it, the op, the answer, and
/// when it was invoked and when it returned (Stopwatch ticks; only their order matters).</summary>
public sealed record ConcurrentEvent(int Thread, Op Op, Outcome Outcome, long Invoked, long Returned)
{
    /// <summary>Real-time order: this call returned before <paramref name="other"/> was invoked,
    /// so every linearization must place it first.</summary>
    public bool Precedes(ConcurrentEvent other) => Returned < other.Invoked;
}

/// <summary>A recorded history: the sequential prefix (thread -1) and the concurrent calls.</summary>
public sealed record ConcurrentHistory(string Preset, IReadOnlyList<ConcurrentEvent> Events)
{
    public string ToText()
    {
        var sb = new StringBuilder();
        long origin = Events.Count == 0 ? 0 : Events.Min(e => e.Invoked);
        foreach (var e in Events.OrderBy(e => e.Invoked))
            sb.Append(e.Thread < 0 ? "setup   " : $"thread {e.Thread}").Append(" [").Append(e.Invoked - origin).Append("..").Append(e.Returned - origin).Append("] ")
              .Append(ScenarioPrinter.FormatOp(e.Op)).Append("  # -> ").Append(ScenarioPrinter.FormatOutcome(e.Outcome)).Append('\n');
        return sb.ToString();
    }
}
