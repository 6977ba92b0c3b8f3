namespace DmaVerify.Contracts;

/// <summary>
/// One problem found while reading scenario text. <see cref="Line"/> and <see cref="Column"/>
/// are 1-based (the column of the offending token, counted in UTF-16 code units, a tab counting
/// as one); both are 0 for a problem with the file as a whole (missing, unreadable).
/// </summary>
public sealed record ParseError(string File, int Line, int Column, string Message)
{
    public override string ToString() =>
        Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>What <see cref="ScenarioParser"/> answers: a scenario, or the errors that stopped it.
/// Exactly one of the two is present; the parser never throws.</summary>
public sealed record ParseResult
{
    private ParseResult(Scenario? scenario, ValueList<ParseError> errors)
    {
        Scenario = scenario;
        Errors = errors;
    }

    public Scenario? Scenario { get; }
    public ValueList<ParseError> Errors { get; }
    public bool IsSuccess => Scenario is not null;

    public static ParseResult Ok(Scenario scenario) => new(scenario, ValueList<ParseError>.Empty);

    public static ParseResult Fail(IEnumerable<ParseError> errors)
    {
        var list = errors.ToValueList();
        return list.Count == 0
            ? throw new ArgumentException("a failed parse needs at least one error", nameof(errors))
            : new ParseResult(null, list);
    }

    public bool TryGet(out Scenario scenario)
    {
        scenario = Scenario!;
        return Scenario is not null;
    }

    /// <summary>All errors, one per line, in the usual <c>file:line:column: message</c> form.</summary>
    public string ErrorText => string.Join(Environment.NewLine, Errors);

    public override string ToString() => IsSuccess ? "ok" : ErrorText;
}
