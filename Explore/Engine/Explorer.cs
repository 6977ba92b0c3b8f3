using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>
/// Bounded-exhaustive checking of one preset: breadth first over the op sequences the alphabet
/// allows, each op run on the model and the implementation in lock step (a
/// <see cref="RefinementSession"/> step: refinement and the model's incremental invariant
/// check), the implementation's exported state judged by the full checker at each new state
/// (each domain's own rules once per distinct domain content: <see cref="DomainVerdicts"/>).
/// States are deduplicated by <see cref="StateFingerprint"/> (with symmetry) plus the
/// implementation's <see cref="IHiddenStateFingerprint"/>, so each abstract state is expanded
/// once, at the depth BFS first reaches it: the first finding is a shortest counterexample.
/// <para>No prefix is ever replayed. The model's state of every frontier state is kept (a
/// persistent value, O(1) to save and restore). The implementation's is rebuilt level by level:
/// the tree of first visits is walked depth first, each node restoring its parent's snapshot
/// and running the one op that leads to it, so a node's snapshot lives only while its subtree
/// is expanded (memory stays the depth times one snapshot, not the frontier times one).</para>
/// <para>With <see cref="ExploreOptions.Workers"/> above one, each depth's frontier (in the order
/// of that walk) is cut into contiguous parts, each expanded by an <see cref="ExploreWorker"/>
/// with its own sessions; the set of seen states is shared. The states and counts of a clean run
/// do not depend on the number of workers; which parent reaches a state first does, and so which
/// of several equally short counterexamples is reported.</para>
/// </summary>
public sealed partial class Explorer
{
    private readonly ExplorePlatform _platform;
    private readonly Implementation _implementation;
    private readonly ExploreOptions _options;
    private readonly PresetAlphabet _alphabet;
    private readonly HashSet64 _visited = new();
    private readonly DomainVerdicts _verdicts = new();
    private readonly IReadOnlyList<IReadOnlyList<int>> _orders;
    private readonly Stopwatch _clock = new();
    private readonly List<LevelStats> _levels = [];
    /// <summary>Guards the seen states, the end of the search and the status line.</summary>
    private readonly Lock _gate = new();
    private readonly List<ExploreWorker> _workers = [];
    private long _frontierSize, _peakMemory;
    private int _depth;
    private TimeSpan _nextStatus = TimeSpan.FromSeconds(1);
    private ExploreFinding? _finding;
    private ExploreEnd? _stop;
    private volatile bool _stopping;
    private string? _toolError;

    private Explorer(ExplorePlatform platform, Implementation implementation, ExploreOptions options)
    {
        _platform = platform;
        _implementation = implementation;
        _options = options;
        _alphabet = PresetAlphabet.Build(platform.Platform, implementation.ModelOptions, options.Ops, options.MaxLive, platform.BoundaryDevice);
        _orders = options.Symmetry ? _alphabet.Symmetry.Orders : [];
    }

    /// <summary>The alphabet a run of <paramref name="preset"/> would use (for listings and docs).</summary>
    public static PresetAlphabet AlphabetOf(ExplorePlatform preset, ModelOptions modelOptions, ExploreOptions options) =>
        PresetAlphabet.Build(preset.Platform, modelOptions, options.Ops, options.MaxLive, preset.BoundaryDevice);

    public static ExploreResult Run(ExplorePlatform preset, Implementation implementation, ExploreOptions options) =>
        new Explorer(preset, implementation, options).Run();

    /// <summary>A state of the tree of first visits: the op that first reached it from its parent,
    /// with the implementation's answer (run again when the state is rebuilt).</summary>
    private sealed class Node(Node? parent, Choice? choice, Outcome? outcome, int depth, ulong hash)
    {
        public readonly Node? Parent = parent;
        public readonly Choice? Choice = choice;
        public readonly Outcome? Outcome = outcome;
        public readonly int Depth = depth;
        public readonly ulong Hash = hash;
        /// <summary>The model's state (kept while the node is on the frontier): the snapshot to
        /// restore and the same state as a value to read the alphabet from, both O(1).</summary>
        public ModelSnapshot? Model;
        public ModelState? View;
        /// <summary>Written only by the worker that expands this node.</summary>
        public List<Node>? Children;
    }

    private ExploreResult Run()
    {
        _clock.Start();
        var first = new ExploreWorker(this, 0);
        _workers.Add(first);
        if (first.Start() is { } broken)
            return Result(Report(new Node(null, null, null, 0, 0), null, broken, null));
        var root = first.Root!;
        _visited.Add(root.Hash);
        _options.NewState?.Invoke(root.Hash);
        for (int i = 1; i < Math.Max(1, _options.Workers); i++)
            _workers.Add(new ExploreWorker(this, i, first));

        var frontier = new List<Node> { root };
        for (_depth = 0; _depth < _options.Depth && frontier.Count > 0 && !_stopping; _depth++)
        {
            var levelClock = Stopwatch.StartNew();
            foreach (var w in _workers) w.StartLevel();
            _frontierSize = frontier.Count;
            ExpandLevel(frontier);
            if (_stopping) break;
            _levels.Add(new LevelStats(_depth + 1, _workers.Sum(w => w.LevelTransitions), _workers.Sum(w => w.LevelNew), levelClock.Elapsed.TotalSeconds));
            foreach (var n in frontier) (n.Model, n.View) = (null, null);
            frontier = Prune(root);
            if (_options.Shard is { } shard && _depth + 1 == shard.AtDepth)
                frontier = KeepShard(root, shard);
            if (frontier.Count == 0) Stop(ExploreEnd.Exhausted);
        }
        return Result(null);
    }

    /// <summary>Expands the frontier, cut into one contiguous part per worker (a frontier smaller
    /// than a few nodes per worker is not worth the threads).</summary>
    private void ExpandLevel(List<Node> frontier)
    {
        int parts = Math.Min(_workers.Count, Math.Max(1, frontier.Count / 4));
        if (parts == 1)
        {
            _workers[0].Expand(frontier, 0, frontier.Count);
            return;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            _workers[part].Expand(frontier, frontier.Count * part / parts, frontier.Count * (part + 1) / parts));
    }

    /// <summary>Records a state's hash; true when it was not seen before (the caller expands it).</summary>
    private bool Visit(ulong hash)
    {
        bool unseen;
        lock (_gate)
        {
            unseen = _visited.Add(hash);
            if (unseen && _visited.Count >= _options.MaxStates) StopLocked(ExploreEnd.MaxStates);
        }
        if (unseen) _options.NewState?.Invoke(hash);
        return unseen;
    }

    private void Stop(ExploreEnd end)
    {
        lock (_gate) StopLocked(end);
    }

    private void StopLocked(ExploreEnd end)
    {
        _stop ??= end;
        _stopping = true;
    }

    /// <summary>Drops subtrees that reached no new state; returns the new frontier.</summary>
    private static List<Node> Prune(Node root)
    {
        var frontier = new List<Node>();
        Live(root);
        return frontier;

        bool Live(Node n)
        {
            if (n.Children is null) return false;
            bool deepest = n.Children.Count > 0 && n.Children[0].Model is not null;
            if (deepest)
            {
                frontier.AddRange(n.Children);
                return true;
            }
            n.Children.RemoveAll(c => !Live(c));
            if (n.Children.Count == 0) n.Children = null;
            return n.Children is not null;
        }
    }

    private static List<Node> KeepShard(Node root, Shard shard)
    {
        var kept = new List<Node>();
        Filter(root);
        Prune(root);
        return kept;

        void Filter(Node n)
        {
            if (n.Children is null) return;
            if (n.Children[0].Model is not null)
            {
                n.Children.RemoveAll(c => !shard.Keeps(c.Hash));
                kept.AddRange(n.Children);
                if (n.Children.Count == 0) n.Children = null;
                return;
            }
            foreach (var c in n.Children) Filter(c);
        }
    }

    /// <summary>Ends the search with a finding at <paramref name="node"/> (and the op
    /// <paramref name="last"/> from it); the first one reported wins.</summary>
    private ExploreFinding? Report(Node node, Choice? last, Finding finding, Outcome? outcome)
    {
        var path = new List<Node>();
        for (var n = node; n.Parent is not null; n = n.Parent) path.Add(n);
        path.Reverse();
        var steps = path.Select(n => new ScenarioStep(n.Choice!.Op, n.Outcome)).ToList();
        var faults = new Dictionary<int, int>();
        for (int i = 0; i < path.Count; i++)
            if (path[i].Choice!.FailNthAllocation > 0) faults[i] = path[i].Choice!.FailNthAllocation;
        if (last is not null)
        {
            if (last.FailNthAllocation > 0) faults[steps.Count] = last.FailNthAllocation;
            steps.Add(new ScenarioStep(last.Op, outcome));
        }
        int step = Math.Max(0, steps.Count - 1);
        var found = new ExploreFinding(finding with { Step = step }, _platform.ScenarioOf(steps), faults);
        // A finding is the verdict: it ends the search whatever else stopped it meanwhile.
        lock (_gate)
        {
            if (_finding is not null) return _finding;
            _finding = found;
            _stop = ExploreEnd.Finding;
            _stopping = true;
        }
        return found;
    }

    /// <summary>Ends the search without a verdict (unless a finding came first).</summary>
    private void ToolFailure(string message)
    {
        lock (_gate)
        {
            if (_finding is not null) return;
            _toolError = message;
            _stop = ExploreEnd.ToolError;
            _stopping = true;
        }
    }

    private long Transitions => _workers.Sum(w => w.Transitions);

    /// <summary>Called by each worker every few hundred ops: the time limit, cancellation and,
    /// once a second, the status line.</summary>
    private void Tick()
    {
        lock (_gate)
        {
            if (_options.Cancel.IsCancellationRequested) StopLocked(ExploreEnd.Cancelled);
            if (_options.TimeLimit is { } limit && _clock.Elapsed > limit) StopLocked(ExploreEnd.TimeLimit);
            if (_clock.Elapsed < _nextStatus) return;
            _nextStatus = _clock.Elapsed + TimeSpan.FromSeconds(1);
            long memory = GC.GetTotalMemory(false);
            _peakMemory = Math.Max(_peakMemory, memory);
            long transitions = Transitions;
            _options.Status?.Invoke(new ExploreStatus(_platform.Preset, _depth + 1, _frontierSize, transitions, _visited.Count,
                transitions / _clock.Elapsed.TotalSeconds, memory, _clock.Elapsed));
        }
    }

    private ExploreResult Result(ExploreFinding? early)
    {
        _clock.Stop();
        _peakMemory = Math.Max(_peakMemory, GC.GetTotalMemory(false));
        var end = _stop ?? ExploreEnd.Depth;
        if (early is not null) end = ExploreEnd.Finding;
        var finding = early ?? _finding;
        int clean = end switch
        {
            ExploreEnd.Depth => _options.Depth,
            ExploreEnd.Exhausted => Math.Max(_options.Depth, _levels.Count),
            ExploreEnd.Finding => Math.Max(0, (finding?.Length ?? 1) - 1),
            _ => _levels.Count,
        };
        return new ExploreResult
        {
            Preset = _platform.Preset,
            Implementation = _implementation.Name,
            Ops = _options.Ops,
            RequestedDepth = _options.Depth,
            MaxLive = _options.MaxLive,
            CleanDepth = clean,
            End = end,
            ToolError = _toolError,
            Levels = _levels,
            States = Transitions,
            Distinct = _visited.Count,
            Seconds = _clock.Elapsed.TotalSeconds,
            PeakMemoryBytes = _peakMemory,
            InitialChoices = _alphabet.Next(new ModelSystem(_platform.Platform, _implementation.ModelOptions).View).Count,
            SymmetricDevices = _options.Symmetry ? [.. _alphabet.Symmetry.Classes] : [],
            Shard = _options.Shard,
            Finding = finding,
        };
    }
}
