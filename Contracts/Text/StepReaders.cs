using N = DmaVerify.Contracts.TextNames;

namespace DmaVerify.Contracts;

/// <summary>
/// The arguments of one verb: <c>key=value</c> pairs, bare flags and (for outcomes) positional
/// values. Unknown keys, duplicates and stray words are reported when it is built; the typed
/// getters report missing keys (at the verb's column) and bad values (at the value's column),
/// answering a placeholder so that reading goes on and every problem of the line is reported.
/// </summary>
internal sealed class KeyedArgs
{
    private readonly LineContext _ctx;
    private readonly Token _head;
    private readonly string _what;
    private readonly Dictionary<string, Token> _pairs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Token> _flags = new(StringComparer.Ordinal);
    private readonly List<Token> _positionals = [];

    public KeyedArgs(LineContext ctx, Token head, string what, IReadOnlyList<Token> tokens, int from,
        string[] keys, string[] flags, bool positionals = false)
    {
        _ctx = ctx;
        _head = head;
        _what = what;
        for (int i = from; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind == TokenKind.Pair)
            {
                if (!keys.Contains(t.Text))
                    ctx.Error(t.Column, $"unknown key {ScenarioParser.Show(t.Text)} for '{what}'; {Expectation(keys, flags)}");
                else if (!_pairs.TryAdd(t.Text, t))
                    ctx.Error(t.Column, $"duplicate key {t.Text}= (first given at column {_pairs[t.Text].Column})");
            }
            else if (t.Kind == TokenKind.Word && flags.Contains(t.Text))
            {
                if (!_flags.TryAdd(t.Text, t))
                    ctx.Error(t.Column, $"duplicate flag '{t.Text}' (first given at column {_flags[t.Text].Column})");
            }
            else if (positionals)
            {
                _positionals.Add(t);
            }
            else if (t.Kind == TokenKind.Word && keys.Contains(t.Text))
            {
                ctx.Error(t.Column, $"expected {t.Text}=VALUE, not a bare '{t.Text}'");
            }
            else
            {
                ctx.Error(t.Column, t.Kind == TokenKind.String
                    ? $"unexpected quoted string; {Expectation(keys, flags)}"
                    : $"unexpected {ScenarioParser.Show(t.Text)}; {Expectation(keys, flags)}");
            }
        }
    }

    private string Expectation(string[] keys, string[] flags)
    {
        if (keys.Length == 0 && flags.Length == 0) return $"'{_what}' takes no arguments";
        string text = keys.Length == 0 ? $"'{_what}' takes" : $"'{_what}' takes {string.Join(" ", keys.Select(k => k + "="))}";
        return flags.Length == 0 ? text : $"{text}{(keys.Length == 0 ? "" : " and")} the flags {string.Join(", ", flags)}";
    }

    public Token? Opt(string key) => _pairs.GetValueOrDefault(key);

    public Token? Req(string key)
    {
        if (_pairs.TryGetValue(key, out var t)) return t;
        _ctx.Error(_head.Column, $"missing {key}= for '{_what}'");
        return null;
    }

    public Token? Flag(string flag) => _flags.GetValueOrDefault(flag);
    public bool Has(string flag) => _flags.ContainsKey(flag);

    /// <summary>The n-th positional value; a missing one is reported at the verb.</summary>
    public Token? Positional(int index, string description)
    {
        if (index < _positionals.Count) return _positionals[index];
        _ctx.Error(_head.Column, $"'{_what}' needs {description}");
        return null;
    }

    public Token? OptPositional(int index) => index < _positionals.Count ? _positionals[index] : null;

    /// <summary>Reports positional values beyond the first <paramref name="count"/>.</summary>
    public void NoMorePositionals(int count)
    {
        if (_positionals.Count > count)
            _ctx.Error(_positionals[count].Column, $"unexpected {ScenarioParser.Show(ScenarioParser.Raw(_positionals[count]))} after '{_what}'");
    }

    public int Int(string key) => Req(key) is Token t && _ctx.Int(Val.Of(t), key, out int v) ? v : 0;

    public ulong U64(string key) => Req(key) is Token t && _ctx.Number(Val.Of(t), key, out ulong v) ? v : 0;

    public ulong OptU64(string key, ulong fallback) =>
        Opt(key) is not Token t ? fallback : _ctx.Number(Val.Of(t), key, out ulong v) ? v : fallback;

    /// <summary>A string value, bare or quoted.</summary>
    public string? OptString(string key) => Opt(key)?.Value;

    public T Enum<T>(string key, EnumNames<T> names) where T : struct, Enum =>
        Req(key) is Token t && _ctx.Enum(Val.Of(t), names, key, out T v) ? v : default;

    public T Flags<T>(string key, EnumNames<T> names) where T : struct, Enum =>
        Req(key) is Token t && _ctx.FlagSet(Val.Of(t), names, key, out T v) ? v : default;

    public T OptFlags<T>(string key, EnumNames<T> names) where T : struct, Enum =>
        Opt(key) is Token t && _ctx.FlagSet(Val.Of(t), names, key, out T v) ? v : default;

    public AddressRef Ref(string key) =>
        Req(key) is Token t && _ctx.Ref(Val.Of(t), key, out var v) ? v : new RawRef(0);

    public ValueList<T> ListOf<T>(string key, LineContext.ItemReader<T> item) =>
        Req(key) is Token t && _ctx.ReadList(Val.Of(t), key, item, out var v) ? v : ValueList<T>.Empty;
}

/// <summary>Reads an op line: the verb, then its arguments.</summary>
internal static class OpReader
{
    public static Op? Read(LineContext ctx, List<Token> tokens)
    {
        var head = tokens[0];
        string verb = head.Text;
        KeyedArgs Args(params string[] keys) => new(ctx, head, verb, tokens, 1, keys, []);

        Op op;
        switch (verb)
        {
            case N.AllocDomain:
            {
                var a = Args(N.Iommu, N.Type);
                op = new AllocDomain(a.Int(N.Iommu), a.Enum(N.Type, N.DomainTypes));
                break;
            }
            case N.Attach:
            {
                var a = Args(N.Dev, N.Domain);
                op = new Attach(a.Int(N.Dev), a.Int(N.Domain));
                break;
            }
            case N.SetDomainType:
            {
                var a = Args(N.Dev, N.Type);
                op = new SetDomainType(a.Int(N.Dev), a.Enum(N.Type, N.DomainTypes));
                break;
            }
            case N.SetMask:
            {
                var a = Args(N.Dev, N.Mask, N.Coherent);
                op = new SetMask(a.Int(N.Dev), a.U64(N.Mask), a.U64(N.Coherent));
                break;
            }
            case N.Map:
            {
                var a = Args(N.Dev, N.Phys, N.Len, N.Dir, N.Attrs);
                op = new Map(a.Int(N.Dev), new PhysAddr(a.U64(N.Phys)), a.U64(N.Len), a.Enum(N.Dir, N.Directions), a.OptFlags(N.Attrs, N.AttrFlags));
                break;
            }
            case N.Unmap:
            {
                var a = Args(N.Dev, N.Handle, N.Len, N.Dir);
                op = new Unmap(a.Int(N.Dev), a.Ref(N.Handle), a.U64(N.Len), a.Enum(N.Dir, N.Directions));
                break;
            }
            case N.MapSg:
            {
                var a = Args(N.Dev, N.Segs, N.Dir);
                op = new MapSg(a.Int(N.Dev), a.ListOf<SgEntry>(N.Segs, ctx.ReadSgEntry), a.Enum(N.Dir, N.Directions));
                break;
            }
            case N.UnmapSg:
            {
                var a = Args(N.Dev, N.Handle, N.Nents, N.Dir);
                op = new UnmapSg(a.Int(N.Dev), a.Ref(N.Handle), a.Int(N.Nents), a.Enum(N.Dir, N.Directions));
                break;
            }
            case N.AllocCoherent:
            {
                var a = Args(N.Dev, N.Phys, N.Size);
                op = new AllocCoherent(a.Int(N.Dev), new PhysAddr(a.U64(N.Phys)), a.U64(N.Size));
                break;
            }
            case N.FreeCoherent:
            {
                var a = Args(N.Dev, N.Handle, N.Size);
                op = new FreeCoherent(a.Int(N.Dev), a.Ref(N.Handle), a.U64(N.Size));
                break;
            }
            case N.MapResource:
            {
                var a = Args(N.Dev, N.Phys, N.Len, N.Dir);
                op = new MapResource(a.Int(N.Dev), new PhysAddr(a.U64(N.Phys)), a.U64(N.Len), a.Enum(N.Dir, N.Directions));
                break;
            }
            case N.UnmapResource:
            {
                var a = Args(N.Dev, N.Handle, N.Len, N.Dir);
                op = new UnmapResource(a.Int(N.Dev), a.Ref(N.Handle), a.U64(N.Len), a.Enum(N.Dir, N.Directions));
                break;
            }
            case N.IommuMap:
            {
                var a = Args(N.Domain, N.Iova, N.Phys, N.Size, N.Prot);
                op = new IommuMap(a.Int(N.Domain), new Iova(a.U64(N.Iova)), new PhysAddr(a.U64(N.Phys)), a.U64(N.Size), a.Flags(N.Prot, N.ProtFlags));
                break;
            }
            case N.IommuUnmap:
            {
                var a = Args(N.Domain, N.Iova, N.Size);
                op = new IommuUnmap(a.Int(N.Domain), new Iova(a.U64(N.Iova)), a.U64(N.Size));
                break;
            }
            case N.DeviceAccess:
            {
                var a = new KeyedArgs(ctx, head, verb, tokens, 1, [N.Dev, N.Addr, N.Len], [N.Write, N.Read]);
                int dev = a.Int(N.Dev);
                var addr = a.Ref(N.Addr);
                ulong len = a.U64(N.Len);
                var (w, r) = (a.Flag(N.Write), a.Flag(N.Read));
                if (w is not null && r is not null)
                    ctx.Error(Math.Max(w.Column, r.Column), "'write' and 'read' exclude each other");
                else if (w is null && r is null)
                    ctx.Error(head.Column, $"missing 'write' or 'read' for '{N.DeviceAccess}'");
                op = new DeviceAccess(dev, addr, len, w is not null);
                break;
            }
            case N.SetupMsi:
            {
                var a = Args(N.Dev, N.Doorbell);
                op = new SetupMsi(a.Int(N.Dev), new PhysAddr(a.U64(N.Doorbell)));
                break;
            }
            case N.Flush:
            {
                var a = Args(N.Domain);
                op = new Flush(a.Int(N.Domain));
                break;
            }
            case N.Tick:
            {
                var a = Args(N.Ms);
                op = new Tick(a.U64(N.Ms));
                break;
            }
            default:
                ctx.Error(head.Column, $"unknown verb {ScenarioParser.Show(verb)}; expected preset, device or one of {string.Join(", ", N.Verbs)}");
                return null;
        }
        return ctx.Failed ? null : op;
    }
}

/// <summary>Reads the outcome of a result comment (the text after <c># -></c>).</summary>
internal static class OutcomeReader
{
    public static Outcome? Read(LineContext ctx, List<Token> tokens)
    {
        var head = tokens[0];
        string word = head.Kind == TokenKind.Word ? head.Text : "";
        KeyedArgs Args(params string[] keys) => new(ctx, head, word, tokens, 1, keys, [], positionals: true);

        Outcome outcome;
        switch (word)
        {
            case N.Ok:
            {
                Args().NoMorePositionals(0);
                outcome = Done.Instance;
                break;
            }
            case N.Mapped:
            {
                var a = Args(N.Bounce);
                ulong dma = a.Positional(0, "a DMA address") is Token t && ctx.Number(Val.Of(t), N.Mapped, out ulong d) ? d : 0;
                a.NoMorePositionals(1);
                PhysAddr? bounce = a.Opt(N.Bounce) is Token b && ctx.Number(Val.Of(b), N.Bounce, out ulong p) ? new PhysAddr(p) : null;
                outcome = new Mapped(new DmaAddr(dma), bounce);
                break;
            }
            case N.SgMapped:
            {
                var a = Args(N.Bounces);
                var segments = a.Positional(0, "its segments (DMA+LEN,… or none)") is Token t
                    && ctx.ReadList<DmaSegment>(Val.Of(t), N.SgMapped, ctx.ReadDmaSegment, out var s) ? s : ValueList<DmaSegment>.Empty;
                a.NoMorePositionals(1);
                ValueList<PhysAddr>? bounces = a.Opt(N.Bounces) is Token b && ctx.ReadList<PhysAddr>(Val.Of(b), N.Bounces, ctx.ReadPhys, out var l) ? l : null;
                outcome = new SgMapped(segments, bounces);
                break;
            }
            case N.DomainAllocated:
            {
                var a = Args();
                int id = a.Positional(0, "a domain id") is Token t && ctx.Int(Val.Of(t), N.DomainAllocated, out int v) ? v : 0;
                a.NoMorePositionals(1);
                outcome = new DomainAllocated(id);
                break;
            }
            case N.Unmapped:
            {
                var a = Args();
                ulong bytes = a.Positional(0, "the number of bytes unmapped") is Token t && ctx.Number(Val.Of(t), N.Unmapped, out ulong v) ? v : 0;
                a.NoMorePositionals(1);
                outcome = new Unmapped(bytes);
                break;
            }
            case N.Accessed:
            {
                var a = Args();
                var chunks = a.Positional(0, "its chunks (DMA->PHYS+LEN,… or none)") is Token t
                    && ctx.ReadList<AccessChunk>(Val.Of(t), N.Accessed, ctx.ReadAccessChunk, out var c) ? c : ValueList<AccessChunk>.Empty;
                a.NoMorePositionals(1);
                outcome = new Accessed(chunks);
                break;
            }
            case N.Failed:
            {
                var a = Args();
                var kind = a.Positional(0, "an error kind (out-of-iova, double-unmap, …)") is Token t
                    && ctx.Enum(Val.Of(t), N.ErrorKinds, "error kind", out DmaErrorKind k) ? k : default;
                string message = a.OptPositional(1) is Token m ? m.Text : "";
                a.NoMorePositionals(2);
                outcome = new Failed(kind, message);
                break;
            }
            default:
                ctx.Error(head.Column, $"unknown outcome {ScenarioParser.Show(ScenarioParser.Raw(head))}; expected one of {string.Join(", ", N.OutcomeWords)}");
                return null;
        }
        return ctx.Failed ? null : outcome;
    }
}
