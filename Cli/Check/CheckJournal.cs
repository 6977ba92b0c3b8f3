using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using DmaVerify.Cli.Verbs;
using DmaVerify.Fuzz.Engine;

namespace DmaVerify.Cli.Check;

/// <summary>
/// Makes `verify check --long` resumable: every finished item's result is appended (and
/// flushed) to a journal under the artifact folder, one JSON line each. Run again after a stop
/// or a crash, the same command takes the results of the items already done from the journal
/// and runs only the rest. The journal belongs to one build and one seed: after a rebuild, or
/// with <c>--fresh</c>, it starts over; a complete run renames it to *.done.jsonl, so the next
/// --long starts a new one.
/// </summary>
internal static class CheckJournal
{
    public static IReadOnlyList<CheckResult> Run(CheckRunner runner, IReadOnlyList<CheckItem> items, CheckBudget budget,
        CheckEnvironment context, CheckRequest request, TextWriter progress)
    {
        string folder = Path.Combine(context.ArtifactDirectory, "long");
        string path = Path.Combine(folder, $"check-long-seed{request.Seed}{(request.Plant is { } p ? "-" + p : "")}.jsonl");
        string build = BuildId();
        var done = request.Fresh ? [] : Load(path, build, items, progress);
        if (done.Count > 0)
            progress.WriteLine($"check --long: resuming from {path}: {done.Count} of {items.Count} items already done");

        TextWriter? journal = null;
        try
        {
            Directory.CreateDirectory(folder);
            bool fresh = done.Count == 0;
            journal = new StreamWriter(new FileStream(path, fresh ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
            if (fresh) journal.WriteLine(JsonSerializer.Serialize(new { build, command = CheckVerb.CommandLine(request), started = DateTime.UtcNow }));
            journal.Flush();
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            progress.WriteLine($"check --long: cannot keep a journal at {path} ({FileErrors.Describe(e)}); this run cannot be resumed");
            journal = null;
        }

        var todo = items.Where(i => !done.ContainsKey(i.Name)).ToList();
        try
        {
            var ran = runner.Run(todo, budget, context, CancellationToken.None, result =>
            {
                if (journal is null) return;
                journal.WriteLine(Line(result));
                journal.Flush();
            });
            var byName = ran.ToDictionary(r => r.Item.Name, StringComparer.Ordinal);
            var all = items.Select(i => done.TryGetValue(i.Name, out var d) ? d : byName.GetValueOrDefault(i.Name)).OfType<CheckResult>().ToList();
            if (journal is not null && all.Count == items.Count)
            {
                journal.Dispose();
                journal = null;
                string finished = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(path)}-{DateTime.UtcNow:yyyyMMddTHHmmss}.done.jsonl");
                try { File.Move(path, finished); } catch (Exception e) when (FileErrors.IsFileError(e)) { }
            }
            return all;
        }
        finally
        {
            journal?.Dispose();
        }
    }

    /// <summary>The results the journal holds for items of this run, or none when there is no
    /// journal, it is of another build, or it is unreadable (a note says which).</summary>
    private static Dictionary<string, CheckResult> Load(string path, string build, IReadOnlyList<CheckItem> items, TextWriter progress)
    {
        var results = new Dictionary<string, CheckResult>(StringComparer.Ordinal);
        if (!File.Exists(path)) return results;
        var byName = items.ToDictionary(i => i.Name, StringComparer.Ordinal);
        try
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0) return results;
            using (var header = JsonDocument.Parse(lines[0]))
                if (!header.RootElement.TryGetProperty("build", out var b) || b.GetString() != build)
                {
                    progress.WriteLine($"check --long: {path} was written by another build; starting over");
                    return results;
                }
            foreach (string line in lines.Skip(1))
            {
                JsonDocument doc;
                try { doc = JsonDocument.Parse(line); }
                catch (JsonException) { continue; } // a line cut short by a kill: that item runs again
                using (doc)
                {
                    var e = doc.RootElement;
                    if (!byName.TryGetValue(e.GetProperty("name").GetString() ?? "", out var item)) continue;
                    results[item.Name] = new CheckResult(item, Outcome(e), TimeSpan.FromSeconds(e.GetProperty("seconds").GetDouble()));
                }
            }
        }
        catch (Exception e) when (FileErrors.IsFileError(e) || e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            progress.WriteLine($"check --long: {path} is unreadable ({e.Message}); starting over");
            results.Clear();
        }
        return results;
    }

    private static CheckOutcome Outcome(JsonElement e)
    {
        string? Text(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long Number(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        var status = Enum.Parse<CheckStatus>(Text("status") ?? "", ignoreCase: true);
        return new CheckOutcome(status, Number("count"), Text("unit") ?? "", Text("problem"), Text("replay"))
        {
            Work = new CheckWork(Number("cases"), Number("ops"), Number("execs")),
            ShrunkOps = e.TryGetProperty("shrunkOps", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null,
            SecondsToFind = e.TryGetProperty("secondsToFind", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble() : null,
        };
    }

    private static string Line(CheckResult r) => JsonSerializer.Serialize(new
    {
        name = r.Item.Name,
        status = r.Outcome.Status.ToString().ToLowerInvariant(),
        count = r.Outcome.Count,
        unit = r.Outcome.Unit,
        problem = r.Outcome.Problem,
        replay = r.Outcome.ReplayCommand,
        cases = r.Outcome.Work.Cases,
        ops = r.Outcome.Work.Ops,
        execs = r.Outcome.Work.Execs,
        shrunkOps = r.Outcome.ShrunkOps,
        secondsToFind = r.Outcome.SecondsToFind,
        seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
    });

    /// <summary>The module version ids of DmaVerify's own assemblies: any rebuild that changes
    /// code changes it (builds are deterministic).</summary>
    internal static string BuildId()
    {
        var self = typeof(CheckJournal).Assembly;
        var ids = self.GetReferencedAssemblies()
            .Where(n => n.Name?.StartsWith("DmaVerify.", StringComparison.Ordinal) == true)
            .Select(n => Assembly.Load(n)).Append(self)
            .Select(a => a.ManifestModule.ModuleVersionId.ToString("N"))
            .Order(StringComparer.Ordinal);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(",", ids))))[..16];
    }
}
