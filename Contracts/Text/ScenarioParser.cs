namespace DmaVerify.Contracts;

/// <summary>
/// Reads the scenario text form (grammar: <see cref="ScenarioPrinter"/>). Answers a
/// <see cref="ParseResult"/>: the scenario, or every error found, each naming file, line,
/// column (of the offending token; of the verb when a key is missing) and what was expected.
/// No input makes it throw. Besides the grammar, it checks what it can check without running
/// anything: the preset exists (<see cref="Presets.TryGet"/>), a device's IOMMU exists in that
/// preset, device ids are not described twice, enum names and flag sets are known.
/// </summary>
public static class ScenarioParser
{
    /// <summary>The parser stops after this many errors (and says so).</summary>
    public const int MaxErrors = 50;

    public const string DefaultFileName = "<text>";

    /// <summary>Parses scenario text; <paramref name="file"/> is only used in error messages.</summary>
    public static ParseResult Parse(string text, string file = DefaultFileName) =>
        new Parser(string.IsNullOrEmpty(file) ? DefaultFileName : file).Run(Lines(text ?? ""));

    /// <summary>
    /// Checks a whole scenario read from <paramref name="lines"/> without keeping its steps: the
    /// result's scenario holds the header (preset, devices) and no steps, and
    /// <paramref name="stepCount"/> says how many there are. With <see cref="StreamSteps"/> this
    /// reads a scenario of any length in memory that does not grow with it.
    /// </summary>
    public static ParseResult Validate(IEnumerable<string> lines, string file, out long stepCount)
    {
        var parser = new Parser(string.IsNullOrEmpty(file) ? DefaultFileName : file) { KeepSteps = false };
        var result = parser.Run(lines);
        stepCount = parser.StepCount;
        return result;
    }

    /// <summary>The steps of a scenario, parsed one line at a time as they are asked for. Meant
    /// for text <see cref="Validate"/> accepted: a line that does not parse ends the sequence.</summary>
    public static IEnumerable<ScenarioStep> StreamSteps(IEnumerable<string> lines, string file)
    {
        var parser = new Parser(string.IsNullOrEmpty(file) ? DefaultFileName : file);
        int lineNo = 0;
        foreach (string raw in lines)
        {
            string line = lineNo == 0 && raw.StartsWith('\uFEFF') ? raw[1..] : raw;
            if (line.EndsWith('\r')) line = line[..^1];
            parser.ParseLine(line, ++lineNo);
            if (parser.HasErrors) yield break;
            foreach (var step in parser.TakeSteps()) yield return step;
        }
    }

    /// <summary>The lines of a text (\n or \r\n), without allocating the whole split at once.</summary>
    private static IEnumerable<string> Lines(string text)
    {
        int pos = 0;
        while (true)
        {
            int nl = text.IndexOf('\n', pos);
            int end = nl < 0 ? text.Length : nl;
            yield return text[pos..end];
            if (nl < 0) yield break;
            pos = nl + 1;
        }
    }

    /// <summary>Reads and parses a file. A missing or unreadable file is an error (line and
    /// column 0), not an exception.</summary>
    public static ParseResult ParseFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            return ParseResult.Fail([new ParseError(path ?? "", 0, 0, "no file name given")]);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ParseResult.Fail([new ParseError(path, 0, 0, "no such file")]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException
                                       or ArgumentException or System.Security.SecurityException)
        {
            return ParseResult.Fail([new ParseError(path, 0, 0, $"cannot read the file: {ex.Message}")]);
        }
        return Parse(text, path);
    }

    /// <summary>Shows user text inside a message: quoted, escaped, and cut to a sane length.</summary>
    internal static string Show(string text) =>
        ScenarioPrinter.Quote(text.Length <= 40 ? text : text[..40] + "…");

    private sealed class Parser(string file) : IErrorSink
    {
        /// <summary>Keep the steps (a whole scenario) or only count them (validation).</summary>
        public bool KeepSteps { get; init; } = true;
        public long StepCount { get; private set; }
        public bool HasErrors => _errors.Count > 0;

        private readonly List<ParseError> _errors = [];
        private readonly List<DeviceConfig> _devices = [];
        private readonly Dictionary<int, int> _deviceLines = [];
        private readonly List<ScenarioStep> _steps = [];
        private string? _preset;
        private int _presetLine;
        private PlatformConfig? _platform;
        private bool _sawContent, _headerReported, _stopped;
        private int _firstOpLine;

        public ParseResult Run(IEnumerable<string> lines)
        {
            int lineNo = 0;
            foreach (string raw in lines)
            {
                if (_stopped) break;
                string line = lineNo == 0 && raw.StartsWith('\uFEFF') ? raw[1..] : raw;
                if (line.EndsWith('\r')) line = line[..^1];
                ParseLine(line, ++lineNo);
            }

            if (_preset is null && !_headerReported && !_stopped)
                Error(1, 1, "empty scenario: expected the header 'preset NAME'");
            if (_errors.Count > 0) return ParseResult.Fail(_errors);
            return ParseResult.Ok(new Scenario(_preset!, _devices.ToValueList(), _steps.ToValueList()));
        }

        public void Error(int line, int column, string message)
        {
            if (_stopped) return;
            if (_errors.Count >= MaxErrors)
            {
                _errors.Add(new ParseError(file, line, column, $"too many errors ({MaxErrors}); stopped reading"));
                _stopped = true;
                return;
            }
            _errors.Add(new ParseError(file, line, column, message));
        }

        /// <summary>The steps parsed since the last call.</summary>
        public List<ScenarioStep> TakeSteps()
        {
            var taken = new List<ScenarioStep>(_steps);
            _steps.Clear();
            return taken;
        }

        public void ParseLine(string line, int lineNo)
        {
            var tokens = new List<Token>();
            if (!ScenarioLexer.Tokenize(line, 0, tokens, out int commentAt, out var lexError))
            {
                Error(lineNo, lexError.Column, lexError.Message);
                _sawContent = true;
                return;
            }
            if (tokens.Count == 0) return; // blank or comment

            var head = tokens[0];
            var ctx = new LineContext(this, lineNo);
            if (head.Kind != TokenKind.Word)
            {
                ctx.Error(head.Column, head.Kind == TokenKind.Pair
                    ? $"expected a verb before {Show(head.Text + "=")}"
                    : "expected a verb, not a quoted string");
                _sawContent = true;
                return;
            }

            if (head.Text == TextNames.PresetWord)
            {
                // Even a bad header line is a header: its own error says what is wrong with it.
                _headerReported |= !_sawContent;
                ParsePreset(ctx, tokens);
                _sawContent = true;
                return;
            }
            if (_preset is null && !_headerReported)
            {
                // Reported for the file, not the line: the line itself is still read normally.
                Error(lineNo, head.Column, $"expected the header 'preset NAME' before {Show(head.Text)}");
                _headerReported = true;
            }
            _sawContent = true;

            if (head.Text == TextNames.DeviceWord)
            {
                ParseDevice(ctx, tokens);
                return;
            }

            if (_firstOpLine == 0) _firstOpLine = lineNo;
            var op = OpReader.Read(ctx, tokens);
            Outcome? expected = null;
            bool outcomeOk = true;
            if (commentAt >= 0)
            {
                int j = commentAt + 1;
                while (j < line.Length && line[j] is ' ' or '\t') j++;
                if (line.AsSpan(j).StartsWith(TextNames.ResultMarker, StringComparison.Ordinal))
                {
                    expected = ParseOutcome(ctx, line, j);
                    outcomeOk = expected is not null;
                }
            }
            if (op is not null && outcomeOk)
            {
                StepCount++;
                if (KeepSteps) _steps.Add(new ScenarioStep(op, expected));
            }
        }

        private void ParsePreset(LineContext ctx, List<Token> tokens)
        {
            var head = tokens[0];
            if (_presetLine != 0)
            {
                ctx.Error(head.Column, $"duplicate header: 'preset' was already given on line {_presetLine}");
                return;
            }
            if (_sawContent)
            {
                ctx.Error(head.Column, "the header 'preset NAME' must come first, before devices and ops");
                return;
            }
            _presetLine = ctx.LineNo;
            if (tokens.Count < 2)
            {
                ctx.Error(head.EndColumn, "expected a preset name after 'preset'");
                return;
            }
            var name = tokens[1];
            if (name.Kind != TokenKind.Word)
            {
                ctx.Error(name.Column, "expected a preset name such as x86-vtd");
                return;
            }
            if (tokens.Count > 2)
            {
                ctx.Error(tokens[2].Column, $"unexpected {Show(Raw(tokens[2]))} after the preset name");
                return;
            }
            if (!Presets.TryGet(name.Text, out var platform, out string error))
            {
                ctx.Error(name.Column, error);
                return;
            }
            _preset = name.Text;
            _platform = platform;
        }

        private void ParseDevice(LineContext ctx, List<Token> tokens)
        {
            var head = tokens[0];
            if (_firstOpLine != 0)
            {
                ctx.Error(head.Column, $"device lines must come before the first op (line {_firstOpLine})");
                return;
            }
            if (tokens.Count < 2 || tokens[1].Kind != TokenKind.Word)
            {
                ctx.Error(tokens.Count < 2 ? head.EndColumn : tokens[1].Column, "expected a device id after 'device'");
                return;
            }
            var idToken = tokens[1];
            ctx.Int(Val.Of(idToken), "device id", out int id);

            var r = new KeyedArgs(ctx, head, TextNames.DeviceWord, tokens, 2,
                [TextNames.Name, TextNames.Iommu, TextNames.Mask, TextNames.Coherent, TextNames.BusLimit,
                 TextNames.MaxSeg, TextNames.Boundary, TextNames.Virtio],
                [TextNames.Pci, TextNames.Untrusted]);
            var defaults = new DeviceConfig { Id = id };

            string name = r.OptString(TextNames.Name) ?? defaults.Name;
            int? iommu = null;
            int iommuColumn = 0;
            if (r.Opt(TextNames.Iommu) is Token it && it.Value != TextNames.NoIommu)
            {
                iommuColumn = it.ValueColumn;
                if (ctx.Int(Val.Of(it), TextNames.Iommu, out int i)) iommu = i;
            }
            ulong mask = r.OptU64(TextNames.Mask, defaults.DmaMask);
            ulong coherent = r.OptU64(TextNames.Coherent, defaults.CoherentMask);
            ulong busLimit = r.OptU64(TextNames.BusLimit, defaults.BusDmaLimit);
            ulong maxSeg = r.OptU64(TextNames.MaxSeg, defaults.MaxSegmentSize);
            ulong boundary = r.OptU64(TextNames.Boundary, defaults.SegmentBoundaryMask);
            bool? virtio = defaults.Virtio;
            if (r.Opt(TextNames.Virtio) is Token vt)
            {
                switch (vt.Quoted ? null : vt.Value)
                {
                    case TextNames.VirtioPlatform: virtio = true; break;
                    case TextNames.VirtioBypass: virtio = false; break;
                    case TextNames.VirtioNone: virtio = null; break;
                    default:
                        ctx.Error(vt.ValueColumn, $"virtio: bad value {Show(vt.Value)}; expected platform, bypass or none");
                        break;
                }
            }
            if (ctx.Failed) return;

            if (_deviceLines.TryGetValue(id, out int earlier))
            {
                ctx.Error(idToken.Column, $"device {id} is already described on line {earlier}");
                return;
            }
            if (iommu is int n && _platform is not null && _platform.Iommu(n) is null)
            {
                ctx.Error(iommuColumn, $"iommu: preset '{_preset}' has no IOMMU {n}");
                return;
            }
            _deviceLines[id] = ctx.LineNo;
            _devices.Add(new DeviceConfig
            {
                Id = id,
                Name = name,
                Iommu = iommu,
                DmaMask = mask,
                CoherentMask = coherent,
                BusDmaLimit = busLimit,
                MaxSegmentSize = maxSeg,
                SegmentBoundaryMask = boundary,
                IsPci = r.Has(TextNames.Pci),
                Untrusted = r.Has(TextNames.Untrusted),
                Virtio = virtio,
            });
        }

        /// <summary>Parses the outcome after the result marker at index <paramref name="marker"/>.</summary>
        private static Outcome? ParseOutcome(LineContext ctx, string line, int marker)
        {
            var tokens = new List<Token>();
            if (!ScenarioLexer.Tokenize(line, marker + TextNames.ResultMarker.Length, tokens, out _, out var lexError))
            {
                ctx.Error(lexError.Column, lexError.Message);
                return null;
            }
            if (tokens.Count == 0)
            {
                ctx.Error(marker + 1, $"expected an outcome after '# {TextNames.ResultMarker}' ({string.Join(", ", TextNames.OutcomeWords)})");
                return null;
            }
            return OutcomeReader.Read(ctx, tokens);
        }
    }

    /// <summary>The raw text of a token, for messages.</summary>
    internal static string Raw(Token t) => t.Kind switch
    {
        TokenKind.Pair => $"{t.Text}={t.Value}",
        _ => t.Text,
    };
}
