using System.Globalization;
using System.Text;

namespace DmaVerify.Conformance;

/// <summary>
/// A conformance case: one IOVA space (its first allocatable PFN and granule) and the calls made
/// on a fresh allocator over it. The text form, which findings are written in and
/// <c>verify replay FILE.iova --allocator …</c> reads, is one call per line:
/// <code>
/// # comments start with '#'
/// space start_pfn=0x1 granule_shift=12
/// alloc_fast pages=0x3 limit_pfn=0xff flush_rcache=1
/// alloc pages=0x5 limit_pfn=0xff size_aligned=0
/// free #0+0x1
/// free_fast #0
/// free pfn=0x40
/// reserve pfn_lo=0x10 pfn_hi=0x20
/// flush_caches
/// </code>
/// </summary>
public sealed record AllocatorCase(ulong StartPfn, int GranuleShift, IReadOnlyList<AllocatorCall> Calls)
{
    /// <summary>The file extension of the text form.</summary>
    public const string Extension = ".iova";

    public string ToText(string? comment = null)
    {
        var text = new StringBuilder();
        if (comment is not null)
            foreach (var line in comment.ReplaceLineEndings("\n").Split('\n'))
                text.Append("# ").Append(line).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"space start_pfn=0x{StartPfn:x} granule_shift={GranuleShift}\n");
        foreach (var call in Calls) text.Append(call.ToText()).Append('\n');
        return text.ToString();
    }

    /// <summary>Whether <paramref name="text"/> is in this form (its first line that is not a
    /// comment starts with <c>space</c>).</summary>
    public static bool LooksLike(string text) =>
        text.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'))
            ?.StartsWith("space ", StringComparison.Ordinal) == true;

    /// <summary>Parses the text form; on failure, every problem as <c>file:line: message</c>.</summary>
    public static bool TryParse(string text, string fileName, out AllocatorCase parsed, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        var calls = new List<AllocatorCall>();
        ulong? start = null;
        int shift = 12;
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var fields = new Fields(words.Skip(1), $"{fileName}:{i + 1}", problems);
            if (start is null && words[0] != "space")
            {
                problems.Add($"{fileName}:{i + 1}: the first line must be 'space start_pfn=0x1 granule_shift=12'");
                break;
            }
            string where = $"{fileName}:{i + 1}";
            if (words[0] == "space")
            {
                if (start is not null) problems.Add($"{where}: a second 'space' line");
                start = fields.Number("start_pfn");
                shift = (int)Math.Min(fields.Number("granule_shift"), 64);
                if (shift > 32) problems.Add($"{where}: granule_shift must be 0..32");
                if (start == 0) problems.Add($"{where}: start_pfn must be at least 1");
            }
            else if (Call(words, fields, where, problems) is { } call)
            {
                calls.Add(call);
            }
            fields.CheckAllUsed();
        }
        if (start is null && problems.Count == 0) problems.Add($"{fileName}:1: no 'space start_pfn=… granule_shift=…' line");
        parsed = new AllocatorCase(start ?? 1, shift, calls);
        errors = problems;
        return problems.Count == 0;
    }

    private static AllocatorCall? Call(string[] words, Fields fields, string where, List<string> problems)
    {
        bool byHandle = words.Length == 2 && words[1].StartsWith('#');
        switch (words[0])
        {
            case "alloc_fast": return new AllocFastCall(fields.Number("pages"), fields.Number("limit_pfn"), fields.Number("flush_rcache") != 0);
            case "alloc": return new AllocCall(fields.Number("pages"), fields.Number("limit_pfn"), fields.Number("size_aligned") != 0);
            case "free" when byHandle: return ParseLive(words[1], where, problems);
            case "free": return new FreeUnheldCall(fields.Number("pfn"));
            case "free_fast" when byHandle && !words[1].Contains('+'):
                return ParseLive(words[1], where, problems) is { } live ? new FreeFastCall(live.Live) : null;
            case "free_fast":
                problems.Add($"{where}: free_fast names a live alloc_fast allocation: free_fast #0");
                return null;
            case "reserve": return new ReserveCall(fields.Number("pfn_lo"), fields.Number("pfn_hi"));
            case "flush_caches": return new FlushCall();
            default:
                problems.Add($"{where}: unknown call '{words[0]}'; known: alloc_fast, alloc, free, free_fast, reserve, flush_caches");
                return null;
        }
    }

    private static FreeCall? ParseLive(string word, string where, List<string> problems)
    {
        string body = word[1..];
        int plus = body.IndexOf('+');
        string index = plus < 0 ? body : body[..plus];
        ulong offset = 0;
        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out int live)
            || plus >= 0 && !Fields.TryNumber(body[(plus + 1)..], out offset))
        {
            problems.Add($"{where}: '{word}' is not a live allocation reference like #2 or #2+0x1");
            return null;
        }
        return new FreeCall(live, offset);
    }

    /// <summary>name=value fields of one line; each missing, malformed or unused one is a problem.</summary>
    private sealed class Fields
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly string _where;
        private readonly List<string> _problems;

        public Fields(IEnumerable<string> words, string where, List<string> problems)
        {
            _where = where;
            _problems = problems;
            foreach (var word in words)
            {
                int eq = word.IndexOf('=');
                if (eq > 0) _values[word[..eq]] = word[(eq + 1)..];
                else if (!word.StartsWith('#')) problems.Add($"{where}: '{word}' is not name=value");
                else _used.Add(word);
            }
        }

        public ulong Number(string name)
        {
            _used.Add(name);
            if (!_values.TryGetValue(name, out var text))
            {
                _problems.Add($"{_where}: missing {name}=");
                return 0;
            }
            if (TryNumber(text, out ulong value)) return value;
            _problems.Add($"{_where}: {name}={text} is not a number (decimal or 0x hex)");
            return 0;
        }

        public void CheckAllUsed()
        {
            foreach (var name in _values.Keys.Where(k => !_used.Contains(k)))
                _problems.Add($"{_where}: unknown field {name}=");
        }

        public static bool TryNumber(string text, out ulong value) =>
            text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
                : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
