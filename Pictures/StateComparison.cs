namespace DmaVerify.Pictures;

/// <summary>One thing two states disagree on: a line's key and its text on each side (null
/// where that side has no such line, or no such domain or device at all).</summary>
public sealed record Difference(string Key, string? Model, string? Implementation)
{
    public string Describe(string implementationName) =>
        Model is null ? $"{Key}: only in {implementationName}: {Implementation}"
        : Implementation is null ? $"{Key}: only in the model: {Model}"
        : $"{Key}: model: {Model} | {implementationName}: {Implementation}";
}

/// <summary>
/// The model's state and an implementation's, printed the same way as <c>verify show</c> prints
/// one, each domain and device of the model followed by the implementation's of the same id,
/// every line that has no equal on the other side marked with '!', then the list of
/// differences. Lines are matched by what they are about (<see cref="TextRow.Key"/>): a mapping
/// at another IOVA is a range on one side only; a different phys, size or leaf breakdown is the
/// same key with other text.
/// </summary>
public sealed class StateComparison
{
    private readonly Dictionary<string, TextBlock> _model, _impl;
    private readonly List<string> _domainOrder, _deviceOrder;

    public StateComparison(IovaSpaceView model, IovaSpaceView implementation, string implementationName)
    {
        ImplementationName = implementationName;
        var (modelDomains, modelDevices) = IovaSpaceTextRenderer.Blocks(model);
        var (implDomains, implDevices) = IovaSpaceTextRenderer.Blocks(implementation);
        _model = modelDomains.Concat(modelDevices).ToDictionary(b => b.Key);
        _impl = implDomains.Concat(implDevices).ToDictionary(b => b.Key);
        _domainOrder = Order(modelDomains, implDomains);
        _deviceOrder = Order(modelDevices, implDevices);
        Differences = [.. _domainOrder.Concat(_deviceOrder).SelectMany(BlockDifferences)];
    }

    public string ImplementationName { get; }

    public IReadOnlyList<Difference> Differences { get; }

    /// <summary>Block keys in id order: the model's, with the implementation's extra ones in place.</summary>
    private static List<string> Order(List<TextBlock> model, List<TextBlock> impl) =>
        model.Concat(impl).Select(b => b.Key).Distinct().OrderBy(IdOf).ToList();

    private static int IdOf(string blockKey) => int.Parse(blockKey[(blockKey.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private IEnumerable<Difference> BlockDifferences(string key)
    {
        _model.TryGetValue(key, out var m);
        _impl.TryGetValue(key, out var i);
        if (m is null || i is null)
        {
            yield return new Difference(key, m is null ? null : Heading(m), i is null ? null : Heading(i));
            yield break;
        }
        var model = Texts(m);
        var impl = Texts(i);
        foreach (var rowKey in model.Keys.Concat(impl.Keys).Distinct())
        {
            model.TryGetValue(rowKey, out var a);
            impl.TryGetValue(rowKey, out var b);
            if (a != b) yield return new Difference(rowKey, a, b);
        }
    }

    private static string Heading(TextBlock block) => block.Rows.First(r => r.Name is not null).Text.Trim();

    /// <summary>The compared lines of a block by key, trimmed (same-key lines joined).</summary>
    private static Dictionary<string, string> Texts(TextBlock block)
    {
        var texts = new Dictionary<string, string>();
        foreach (var row in block.Rows.Where(r => r.Compared))
            texts[row.Key] = texts.TryGetValue(row.Key, out var earlier) ? earlier + " / " + row.Text.Trim() : row.Text.Trim();
        return texts;
    }

    public void Render(string title, IReadOnlyList<string> outcomeDifferences, TextWriter output)
    {
        output.WriteLine(title);
        output.WriteLine($"the model's state and {ImplementationName}'s side by side; '!' marks a line the other side does not have as it is (free gaps are not compared)");
        if (_domainOrder.Count == 0)
        {
            output.WriteLine();
            output.WriteLine("no domains");
        }
        foreach (var key in _domainOrder)
            WriteBoth(key, output);
        output.WriteLine();
        output.WriteLine(_deviceOrder.Count == 0 ? "no devices" : "devices:");
        foreach (var key in _deviceOrder)
            WriteBoth(key, output);

        output.WriteLine();
        output.WriteLine(outcomeDifferences.Count == 0
            ? $"outcomes: the model and {ImplementationName} agree on every step"
            : $"outcomes: {outcomeDifferences.Count} {(outcomeDifferences.Count == 1 ? "step differs" : "steps differ")}:");
        foreach (var line in outcomeDifferences)
            output.WriteLine("  " + line);
        output.WriteLine(Differences.Count == 0
            ? $"state: no differences between the model and {ImplementationName}"
            : $"state: {Differences.Count} {(Differences.Count == 1 ? "difference" : "differences")} between the model and {ImplementationName}:");
        foreach (var d in Differences)
            output.WriteLine("  " + d.Describe(ImplementationName));
    }

    private void WriteBoth(string key, TextWriter output)
    {
        var marked = Differences.Select(d => d.Key).ToHashSet();
        var model = _model.GetValueOrDefault(key);
        var impl = _impl.GetValueOrDefault(key);
        WriteSide(key, model, "model", marked, otherAbsent: impl is null, output);
        WriteSide(key, impl, ImplementationName, marked, otherAbsent: model is null, output);
    }

    private static void WriteSide(string key, TextBlock? block, string side, HashSet<string> marked, bool otherAbsent, TextWriter output)
    {
        if (block is null)
        {
            if (key.StartsWith("domain ", StringComparison.Ordinal)) output.WriteLine();
            output.WriteLine($"! {(key.StartsWith("dev ", StringComparison.Ordinal) ? "  " : "")}{key} [{side}]: absent");
            return;
        }
        foreach (var row in block.Rows)
        {
            if (row == TextRow.Blank)
            {
                output.WriteLine();
                continue;
            }
            string text = row.Name is { } name ? name + $" [{side}]" + row.Text[name.Length..] : row.Text;
            bool mark = row.Compared && (marked.Contains(row.Key) || otherAbsent);
            output.WriteLine((mark ? "! " : "  ") + text);
        }
    }
}
