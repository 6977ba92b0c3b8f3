namespace DmaVerify.Cli.Check;

/// <summary>Progress of a `verify check` run.</summary>
internal interface ICheckProgress
{
    void Started(int items);
    void ItemStarted(CheckItem item, int done);
    /// <summary>A running item's own status ("1200 seqs, 340/s"); may be called often.</summary>
    void ItemStatus(CheckItem item, string status);
    void ItemFinished(CheckResult result, int done, int total);
    void Finished(IReadOnlyList<CheckResult> results);
}

/// <summary>Plain lines, one per finished item: for redirected output, logs and CI.</summary>
internal sealed class LineProgress(TextWriter output) : ICheckProgress
{
    public void Started(int items) => output.WriteLine($"check: {items} items");
    public void ItemStarted(CheckItem item, int done) { }
    public void ItemStatus(CheckItem item, string status) { }

    public void ItemFinished(CheckResult result, int done, int total) =>
        output.WriteLine($"[{done}/{total}] {result.Item.Name}: {CheckTable.Cell(result)}");

    public void Finished(IReadOnlyList<CheckResult> results) { }
}

/// <summary>One status line rewritten in place (carriage return) on a terminal: the item
/// running, items done, failures so far.</summary>
internal sealed class LiveProgress(TextWriter output) : ICheckProgress
{
    private int _failures, _width, _done;
    private long _lastStatusTicks;

    public void Started(int items) { }

    public void ItemStarted(CheckItem item, int done)
    {
        _done = done;
        Write($"check: {done} done, {_failures} failed; running {item.Name} ...");
    }

    public void ItemStatus(CheckItem item, string status)
    {
        // At most ten updates a second: a terminal is slow next to a fuzz loop.
        long now = Environment.TickCount64;
        if (now - _lastStatusTicks < 100) return;
        _lastStatusTicks = now;
        Write($"check: {_done} done, {_failures} failed; {item.Name}: {status}");
    }

    public void ItemFinished(CheckResult result, int done, int total)
    {
        if (result.Outcome.Status is CheckStatus.Failed or CheckStatus.Crashed)
        {
            _failures++;
            Clear();
            output.WriteLine($"FAIL {result.Item.Name}: {result.Outcome.Problem}");
        }
        Write($"check: {done}/{total} done, {_failures} failed");
    }

    public void Finished(IReadOnlyList<CheckResult> results) => Clear();

    private void Write(string line)
    {
        Clear();
        output.Write(line);
        output.Flush();
        _width = line.Length;
    }

    private void Clear()
    {
        if (_width == 0) return;
        output.Write('\r' + new string(' ', _width) + '\r');
        _width = 0;
    }
}
