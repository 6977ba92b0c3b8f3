using System.Diagnostics;
using DmaVerify.Fuzz.Mutation;
using DmaVerify.Fuzz.Targets;

namespace DmaVerify.Fuzz.Engine;

/// <summary>How a fuzzing session ended.</summary>
public sealed record FuzzResult(int ExitCode, long Runs, int NewUnits, int CorpusUnits, int Edges, int Features, string? ArtifactPath, Exception? Crash)
{
    /// <summary>Seconds the engine ran (from loading the corpus to the end or the crash).</summary>
    public double Seconds { get; init; }
}

/// <summary>
/// The in-process coverage-guided loop (libFuzzer's shape): load the corpus folders and run every
/// input (INITED), then repeatedly pick a corpus unit, mutate it, run it, and keep it when it
/// reaches a feature no earlier input reached (NEW, written to the first folder). The first crash
/// is written as crash-SHA1 and ends the run. Single-threaded and, for a fixed -seed and -runs,
/// deterministic: the same corpus, the same counts.
/// </summary>
public sealed class FuzzEngine
{
    private readonly IFuzzTarget _target;
    private readonly FuzzOptions _options;
    private readonly FuzzDictionary _dictionary;
    private readonly TextWriter _log;
    private readonly List<CorpusUnit> _corpus = [];
    private readonly HashSet<string> _inCorpus = new(StringComparer.Ordinal);
    private long _corpusBytes;
    private long _runs;
    private int _newUnits;
    private readonly Stopwatch _clock = new();
    private double _slowestSeconds;
    private ArtifactWriter _artifacts;
    private readonly CancellationToken _stop;

    /// <param name="stop">Asks the engine to stop after the input it is running (a worker whose
    /// parent died, SIGINT, SIGTERM): it ends as at the end of its budget, losing nothing.</param>
    public FuzzEngine(IFuzzTarget target, FuzzOptions options, FuzzDictionary dictionary, TextWriter log, CancellationToken stop = default)
    {
        _target = target;
        _options = options;
        _dictionary = dictionary;
        _log = log;
        _stop = stop;
        _artifacts = new ArtifactWriter(options.ArtifactPrefix, null, log);
    }

    public FuzzResult Run(IReadOnlyList<string> corpusFolders)
    {
        uint seed = _options.Seed != 0 ? _options.Seed : (uint)(Environment.TickCount64 & int.MaxValue) | 1;
        _log.WriteLine($"INFO: Running with DmaVerify's in-process engine on target {_target.Name}.");
        _log.WriteLine($"INFO: Seed: {seed}");
        var random = new Random((int)seed);
        // Comparison feedback: the target's preset tells the mutator how addresses are encoded
        // (the mixed target's inputs name theirs in the header).
        var inputToState = _options.UseValueProfile
            ? new InputToState(RecentComparisons.Instance, Contracts.Presets.Names.Contains(_target.Name) ? _target.Name : null)
            : null;
        var mutator = new Mutator(random, _dictionary, inputToState);
        var folders = corpusFolders.Select(p => new CorpusFolder(p)).ToList();
        if (folders.Count > 0)
        {
            Directory.CreateDirectory(folders[0].Path);
            folders[0].RemoveDeadWritersTemporaries();
            _artifacts = new ArtifactWriter(_options.ArtifactPrefix, folders[0].Path, _log);
        }

        using var coverage = new CoverageFeatures(_options.UseValueProfile);
        coverage.Attach();
        var current = new CurrentInput();
        using var watchdog = new Watchdog(_options.Timeout, () => OnTimeout(current));
        var executor = new Executor(_target, coverage, watchdog, current);
        _clock.Start();

        // Seed corpus.
        var seeds = folders.SelectMany(f => f.ReadNew()).ToList();
        int maxLen = _options.MaxLen > 0 ? _options.MaxLen : Math.Max(FuzzOptions.DefaultMaxLen, seeds.Count == 0 ? 0 : seeds.Max(s => s.Data.Length));
        if (_options.MaxLen == 0) _log.WriteLine($"INFO: -max_len is not provided; using {maxLen}");
        if (seeds.Count == 0) _log.WriteLine("INFO: A corpus is not provided, starting from an empty corpus");
        else _log.WriteLine($"INFO: seed corpus: files: {seeds.Count} min: {seeds.Min(s => s.Data.Length)}b max: {seeds.Max(s => s.Data.Length)}b total: {seeds.Sum(s => (long)s.Data.Length)}b rss: {StatusFormat.RssMb()}Mb");
        if (!_options.UseCoverage) _log.WriteLine("INFO: -use_coverage=0: blind mutation of the seed corpus");
        if (_options.UseValueProfile) _log.WriteLine("INFO: -use_value_profile=1: 64-bit comparisons count as coverage by operand distance, and their operands are copied into inputs");

        if (seeds.Count == 0) seeds.Add(("", [])); // run the empty input: the corpus starts from it
        foreach (var (_, data) in seeds)
        {
            if (RunOne(executor, data, coverage, folders, writeToCorpus: false, mutations: null, maxLen) is { } crashed) return crashed;
            if (LimitReached()) break;
        }
        if (_corpus.Count == 0) AddUnit([]); // the seeds reached nothing: still something to mutate
        Print("INITED", coverage, maxLen);

        var buffer = new byte[Math.Max(maxLen, 1)];
        long nextPulse = 1;
        long lastReload = _clock.ElapsedMilliseconds;
        while (!LimitReached())
        {
            var unit = _corpus[random.Next(_corpus.Count)];
            var other = _corpus[random.Next(_corpus.Count)];
            int size = Math.Min(unit.Data.Length, maxLen);
            unit.Data.AsSpan(0, size).CopyTo(buffer);
            size = mutator.Mutate(buffer, size, maxLen, other.Data);
            if (RunOne(executor, buffer.AsSpan(0, size), coverage, folders, writeToCorpus: _options.UseCoverage, mutator.Applied, maxLen) is { } crashed)
                return crashed;

            if (_runs >= nextPulse)
            {
                nextPulse <<= 1;
                if (_clock.ElapsedMilliseconds >= 2000) Print("pulse ", coverage, maxLen);
            }
            if (_options.Reload > 0 && folders.Count > 0 && _clock.ElapsedMilliseconds - lastReload >= _options.Reload * 1000L)
            {
                lastReload = _clock.ElapsedMilliseconds;
                int before = _corpus.Count;
                foreach (var (_, data) in folders[0].ReadNew())
                    if (RunOne(executor, data, coverage, folders, writeToCorpus: false, mutations: null, maxLen) is { } c) return c;
                if (_corpus.Count != before) Print("RELOAD", coverage, maxLen);
            }
        }

        if (_stop.IsCancellationRequested) _log.WriteLine("INFO: asked to stop; stopping after the input that was running");
        Print("DONE  ", coverage, maxLen);
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        _log.WriteLine($"Done {_runs} runs in {(long)seconds} second(s)");
        if (_options.PrintFinalStats)
        {
            _log.WriteLine($"stat::number_of_executed_units: {_runs}");
            _log.WriteLine($"stat::average_exec_per_sec:     {(long)(_runs / seconds)}");
            _log.WriteLine($"stat::new_units_added:          {_newUnits}");
            _log.WriteLine($"stat::slowest_unit_time_sec:    {(long)_slowestSeconds}");
            _log.WriteLine($"stat::peak_rss_mb:              {StatusFormat.RssMb()}");
        }
        return new FuzzResult(0, _runs, _newUnits, _corpus.Count, coverage.EdgeCount, coverage.FeatureCount, null, null) { Seconds = seconds };
    }

    private bool LimitReached() =>
        _stop.IsCancellationRequested ||
        (_options.Runs >= 0 && _runs >= _options.Runs) ||
        (_options.MaxTotalTime > 0 && _runs >= _options.MinRuns && _clock.ElapsedMilliseconds >= _options.MaxTotalTime * 1000L);

    /// <summary>Runs one input; returns the crash result to end with, or null.</summary>
    private FuzzResult? RunOne(Executor executor, ReadOnlySpan<byte> data, CoverageFeatures coverage, List<CorpusFolder> folders,
        bool writeToCorpus, IReadOnlyList<MutationKind>? mutations, int maxLen)
    {
        _runs++;
        long started = Stopwatch.GetTimestamp();
        var crash = executor.Execute(data);
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (seconds > _slowestSeconds) _slowestSeconds = seconds;
        if (crash is not null) return ReportCrash(data, crash, mutations, coverage);

        bool seedRun = mutations is null;
        if (seedRun && !_options.UseCoverage)
        {
            AddUnit(data.ToArray()); // blind mode mutates every seed
            return null;
        }
        if ((_options.UseCoverage || seedRun) && coverage.CollectNew(commit: false) > 0)
        {
            coverage.Commit();
            var unit = AddUnit(data.ToArray());
            if (unit is null) return null;
            if (!seedRun)
            {
                _newUnits++;
                if (writeToCorpus && folders.Count > 0) AddToCorpus(folders[0], data);
                Print("NEW   ", coverage, maxLen, StatusFormat.NewSuffix(data.Length, maxLen, mutations!));
            }
        }
        return null;
    }

    private CorpusUnit? AddUnit(byte[] data)
    {
        string sha1 = AtomicFile.Sha1Hex(data);
        if (!_inCorpus.Add(sha1)) return null;
        var unit = new CorpusUnit(data, sha1);
        _corpus.Add(unit);
        _corpusBytes += data.Length;
        return unit;
    }

    /// <summary>Writes a new corpus input; a folder that refuses it ends the run as a tool
    /// failure naming the folder (the write is atomic, so nothing partial is left).</summary>
    private static void AddToCorpus(CorpusFolder folder, ReadOnlySpan<byte> data)
    {
        try
        {
            folder.Add(data);
        }
        catch (Exception e) when (FileErrors.IsFileError(e))
        {
            throw new IOException($"corpus folder {folder.Path}: cannot write a new input: {FileErrors.Describe(e)}", e);
        }
    }

    private FuzzResult ReportCrash(ReadOnlySpan<byte> data, Exception crash, IReadOnlyList<MutationKind>? mutations, CoverageFeatures coverage)
    {
        // The input first: nothing printed or computed below may lose it.
        string? path = _artifacts.Write("crash-", data);
        _log.WriteLine($"=={Environment.ProcessId}== ERROR: DmaVerify fuzz: {Describe(crash)}");
        if (mutations is not null) _log.WriteLine($"MS: {mutations.Count} {string.Concat(mutations.Select(m => m + "-"))}");
        if (path is not null) _log.WriteLine($"replay with: verify replay {path} --target {_target.Name}{_options.ReplaySuffix}");
        _log.WriteLine($"SUMMARY: DmaVerify fuzz: {Signature(crash)}");
        double seconds = _clock.Elapsed.TotalSeconds;
        if (_options.PrintFinalStats)
        {
            // How long the finding took (time-to-find measurements read these two lines).
            _log.WriteLine($"stat::number_of_executed_units: {_runs}");
            _log.WriteLine($"stat::time_to_find_sec:         {seconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)}");
        }
        return new FuzzResult(_options.ErrorExitCode, _runs, _newUnits, _corpus.Count, coverage.EdgeCount, coverage.FeatureCount, path, crash) { Seconds = seconds };
    }

    /// <summary>The crash in one line; a crash whose own message throws is still reported.</summary>
    private static string Describe(Exception e)
    {
        try { return e is FuzzFinding f ? f.Message : $"{e.GetType().FullName}: {e.Message}"; }
        catch (Exception) { return e.GetType().FullName ?? "an exception"; }
    }

    private static string Signature(Exception e)
    {
        try { return CrashSignature.Of(e); }
        catch (Exception) { return e.GetType().Name; }
    }

    private void OnTimeout(CurrentInput current)
    {
        try
        {
            byte[] data = current.Snapshot();
            _artifacts.Write("timeout-", data);
            _log.WriteLine($"=={Environment.ProcessId}== ERROR: DmaVerify fuzz: timeout after {_options.Timeout} seconds");
            _log.WriteLine("SUMMARY: DmaVerify fuzz: timeout");
            _log.Flush();
        }
        finally
        {
            Environment.Exit(_options.TimeoutExitCode);
        }
    }

    private void Print(string @event, CoverageFeatures coverage, int maxLen, string suffix = "")
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        long rate = seconds <= 0 ? 0 : (long)(_runs / seconds);
        _log.WriteLine(StatusFormat.Line(_runs, @event, coverage.EdgeCount, coverage.FeatureCount, _corpus.Count, _corpusBytes, maxLen, rate, StatusFormat.RssMb()) + suffix);
    }
}
