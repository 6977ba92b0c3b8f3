using System.Diagnostics;
using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Explore;

/// <summary>
/// Bounded-exhaustive checking of one preset: breadth first over the op sequences the alphabet
/// allows, each op run on the model and the implementation in lock step (a
/// <see cref="RefinementSession"/> step: refinement and the model's incremental invariant
/// check), the implementation's exported state judged by the full checker at each new state.
/// States are deduplicated by <see cref="StateFingerprint"/> (with symmetry) plus the
/// implementation's <see cref="IHiddenStateFingerprint"/>, so each abstract state is expanded
/// once, at the depth BFS first reaches it: the first finding is a shortest counterexample.
/// <para>No prefix is ever replayed. The model's state of every frontier state is kept (a
/// persistent value, O(1) to save and restore). The implementation's is rebuilt level by level:
/// the tree of first visits is walked depth first, each node restoring its parent's snapshot
/// and running the one op that leads to it, so a node's snapshot lives only while its subtree
/// is expanded (memory stays the depth times one snapshot, not the frontier times one).</para>
/// </summary>
public sealed class Explorer
{
    private readonly ExplorePlatform _platform;
    private readonly Implementation _implementation;
    private readonly ExploreOptions _options;
    private readonly PresetAlphabet _alphabet;
    private readonly StateFingerprint _fingerprint = new();
    private readonly HashSet64 _visited = new();
    private readonly IReadOnlyList<IReadOnlyList<int>> _orders;
    private readonly Stopwatch _clock = new();
    private readonly List<LevelStats> _levels = [];
    private RefinementSession _session = null!;
    private RefinementSession? _faultSession;
    private StateBaseline? _baseline;
    private long _transitions, _levelTransitions, _levelNew, _frontierSize, _peakMemory;
    private int _depth;
    private TimeSpan _nextStatus = TimeSpan.FromSeconds(1);
    private ExploreFinding? _finding;
    private ExploreEnd? _stop;
    private string? _toolError;
    private SystemState? _nodeExport;
    private SessionSnapshot? _nodeExportOf;

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

    private sealed class Node(Node? parent, Choice? choice, Outcome? outcome, int depth, ulong hash)
    {
        public readonly Node? Parent = parent;
        public readonly Choice? Choice = choice;
        public readonly Outcome? Outcome = outcome;
        public readonly int Depth = depth;
        public readonly ulong Hash = hash;
        public ModelSnapshot? Model;
        public List<Node>? Children;
    }

    private ExploreResult Run()
    {
        _clock.Start();
        var refinement = new RefinementOptions { InvariantEvery = 0, Model = _implementation.ModelOptions };
        _session = new RefinementSession(_platform.Platform, _implementation.Create, refinement);
        Node root = new(null, null, null, 0, 0);
        if (_session.Finding is { } broken)
            return Result(Report(root, null, broken, null));
        if (_session.CheckInvariants() is { } startBroken)
            return Result(Report(root, null, startBroken, null));
        var start = _session.Save();
        _baseline = start.Baseline;
        root = new Node(null, null, null, 0, Hash(_session)) { Model = start.Model };
        _visited.Add(root.Hash);
        var rootImpl = start.Implementation;

        var frontier = new List<Node> { root };
        for (_depth = 0; _depth < _options.Depth && frontier.Count > 0 && _stop is null; _depth++)
        {
            var levelClock = Stopwatch.StartNew();
            _levelTransitions = _levelNew = 0;
            _frontierSize = frontier.Count;
            Visit(root, rootImpl);
            if (_stop is not null) break;
            _levels.Add(new LevelStats(_depth + 1, _levelTransitions, _levelNew, levelClock.Elapsed.TotalSeconds));
            foreach (var n in frontier) n.Model = null;
            frontier = Prune(root);
            if (_options.Shard is { } shard && _depth + 1 == shard.AtDepth)
                frontier = KeepShard(root, shard);
            if (frontier.Count == 0) _stop = ExploreEnd.Exhausted;
        }
        return Result(null);
    }

    /// <summary>Walks the tree of first visits down to the frontier, rebuilding the
    /// implementation's state of each node from its parent's snapshot and one op.</summary>
    private void Visit(Node node, SystemSnapshot implementation)
    {
        if (node.Depth == _depth)
        {
            Expand(node, implementation);
            return;
        }
        foreach (var child in node.Children ?? [])
        {
            if (_stop is not null) return;
            var impl = _session.Implementation;
            SystemSnapshot childSnapshot;
            try
            {
                impl.Restore(implementation);
                if (child.Choice!.FailNthAllocation > 0) impl.FailNthAllocation(child.Choice.FailNthAllocation);
                var again = impl.Apply(child.Choice.Op);
                if (!Equals(again, child.Outcome))
                {
                    ToolFailure($"{impl.Name} answered {ScenarioPrinter.FormatOp(child.Choice.Op)} from the same state first with " +
                                $"{Describe(child.Outcome)}, then with {Describe(again)}: explore rebuilds states by running one op again, " +
                                "which needs an implementation that answers alike from alike states");
                    return;
                }
                childSnapshot = impl.Snapshot();
            }
            catch (Exception e)
            {
                Report(child, null, new Finding(FindingKind.ImplementationCrash, 0, "CRASH",
                    $"{impl.Name}'s restore, op or snapshot threw {e.GetType().Name}: {e.Message}"), null);
                return;
            }
            Visit(child, childSnapshot);
        }
    }

    private static string Describe(Outcome? outcome) => outcome is null ? "nothing" : ScenarioPrinter.FormatOutcome(outcome);

    /// <summary>Runs every op of the node's alphabet from the node's state.</summary>
    private void Expand(Node node, SystemSnapshot implementation)
    {
        var from = new SessionSnapshot(node.Model!, implementation, 0, 0, null, _baseline);
        try
        {
            _session.Implementation.Restore(implementation);
        }
        catch (Exception e)
        {
            // As in Visit: the implementation's own restore failing is its crash, not the tool's.
            Report(node, null, new Finding(FindingKind.ImplementationCrash, 0, "CRASH",
                $"{_session.Implementation.Name}'s restore threw {e.GetType().Name}: {e.Message}"), null);
            return;
        }
        _session.Restore(from);
        var choices = _alphabet.Next(_session.ModelView);
        foreach (var choice in choices)
        {
            if (_stop is not null) return;
            Step(node, from, choice);
            _transitions++;
            _levelTransitions++;
            if ((_transitions & 255) == 0) Tick();
        }
    }

    private void Step(Node node, SessionSnapshot from, Choice choice)
    {
        bool faulted = choice.FailNthAllocation > 0;
        var session = faulted ? FaultSession() : _session;
        session.Restore(from);
        var finding = faulted ? session.StepFailingAllocation(choice.Op, choice.FailNthAllocation, () => NodeExport(from)) : session.Step(choice.Op);
        var outcome = session.Steps.Count > 0 ? session.Steps[^1].Expected : null;
        if (finding is not null)
        {
            Report(node, choice, finding, outcome);
            return;
        }
        // An injected failure the model accepted leaves the state as it was: nothing new.
        if (faulted && outcome is Failed { Kind: DmaErrorKind.OutOfMemory }) return;
        ulong hash = Hash(session);
        bool fresh = !_options.Deduplicate || _visited.Add(hash);
        if (!_options.Deduplicate) _visited.Add(hash);
        if (fresh || _options.ImplementationState == ImplementationStateChecks.EveryOp)
        {
            if (_options.ImplementationState != ImplementationStateChecks.None && session.CheckInvariants() is { } broken)
            {
                Report(node, choice, broken, outcome);
                return;
            }
        }
        if (!fresh) return;
        _levelNew++;
        var child = new Node(node, choice, outcome, node.Depth + 1, hash) { Model = session.SaveModel() };
        (node.Children ??= []).Add(child);
        if (_visited.Count >= _options.MaxStates) _stop = ExploreEnd.MaxStates;
    }

    /// <summary>The implementation's exported state at the node being expanded (made once, on
    /// the first injected failure that needs it, in the main session: it restores anyway).</summary>
    private SystemState NodeExport(SessionSnapshot node)
    {
        if (_nodeExport is not null && ReferenceEquals(_nodeExportOf, node)) return _nodeExport;
        _session.Implementation.Restore(node.Implementation);
        _nodeExportOf = node;
        return _nodeExport = _session.Implementation.ExportState();
    }

    /// <summary>A second session whose model accepts OutOfMemory from allocating ops, for the
    /// fault-injection choices (the implementation's n-th allocation is made to fail).</summary>
    private RefinementSession FaultSession() =>
        _faultSession ??= new RefinementSession(_platform.Platform, _implementation.Create,
            new RefinementOptions { InvariantEvery = 0, Model = _implementation.ModelOptions with { AllowResourceFailures = true } });

    private ulong Hash(RefinementSession session)
    {
        ulong h = _fingerprint.Of(session.ModelView, _orders);
        if (session.Implementation is IHiddenStateFingerprint hidden)
            h ^= (hidden.HiddenStateFingerprint() + 0x632B_E59B_D9B4_E019) * 0xD6E8_FEB8_6659_FD93;
        return h;
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
        _finding = new ExploreFinding(finding with { Step = step }, _platform.ScenarioOf(steps), faults);
        _stop = ExploreEnd.Finding;
        return _finding;
    }

    private void ToolFailure(string message)
    {
        _toolError = message;
        _stop = ExploreEnd.ToolError;
    }

    private void Tick()
    {
        if (_options.Cancel.IsCancellationRequested) _stop ??= ExploreEnd.Cancelled;
        if (_options.TimeLimit is { } limit && _clock.Elapsed > limit) _stop ??= ExploreEnd.TimeLimit;
        if (_clock.Elapsed < _nextStatus) return;
        _nextStatus = _clock.Elapsed + TimeSpan.FromSeconds(1);
        long memory = GC.GetTotalMemory(false);
        _peakMemory = Math.Max(_peakMemory, memory);
        _options.Status?.Invoke(new ExploreStatus(_platform.Preset, _depth + 1, _frontierSize, _transitions, _visited.Count,
            _transitions / _clock.Elapsed.TotalSeconds, memory, _clock.Elapsed));
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
            States = _transitions,
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
