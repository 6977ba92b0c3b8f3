using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Explore;

public sealed partial class Explorer
{
    /// <summary>
    /// One thread's share of a depth: its own model and implementation (a refinement session,
    /// and a second one for fault injection) and fingerprint scratch. It expands a contiguous run
    /// of frontier nodes in the order of the tree walk, rebuilding each node's implementation
    /// state from the nearest ancestor it holds a snapshot of (the path it walked last), so
    /// neighbouring nodes share their rebuilt prefix as in a depth-first walk.
    /// </summary>
    private sealed class ExploreWorker
    {
        private readonly Explorer _search;
        private readonly int _index;
        private readonly RefinementSession _session;
        private readonly StateFingerprint _fingerprint = new();
        private readonly List<(Node Node, SystemSnapshot Implementation)> _path = [];
        private RefinementSession? _faultSession;
        private SystemSnapshot? _rootImplementation;
        private SystemState? _nodeExport;
        private SessionSnapshot? _nodeExportOf;
        private long _transitions, _levelTransitions, _levelNew;

        public ExploreWorker(Explorer search, int index, ExploreWorker? first = null)
        {
            _search = search;
            _index = index;
            _session = new RefinementSession(search._platform.Platform, search._implementation.Create,
                search._implementation.Refinement with { InvariantEvery = 0 });
            if (first is null) return;
            // The starting state was judged once, by the first worker; the others start from its snapshot.
            Root = first.Root;
            _rootImplementation = first._rootImplementation;
        }

        public Node? Root { get; private set; }
        public long Transitions => Volatile.Read(ref _transitions);
        public long LevelTransitions => _levelTransitions;
        public long LevelNew => _levelNew;

        /// <summary>Judges the starting state; returns the finding if it is broken.</summary>
        public Finding? Start()
        {
            if (_session.Finding is { } broken) return broken;
            if (_search._verdicts.Check(_session.Implementation, 0) is { } startBroken) return startBroken;
            var start = _session.Save();
            _rootImplementation = start.Implementation;
            Root = new Node(null, null, null, 0, Hash(_session)) { Model = start.Model, View = _session.ModelView };
            return null;
        }

        public void StartLevel()
        {
            _levelTransitions = _levelNew = 0;
            _path.Clear();
            _path.Add((Root!, _rootImplementation!));
        }

        /// <summary>Expands frontier[from..to): every op of each node's alphabet from its state.</summary>
        public void Expand(List<Node> frontier, int from, int to)
        {
            for (int i = from; i < to && !_search._stopping; i++)
            {
                var node = frontier[i];
                if (Rebuild(node) is not { } implementation || !Restores(node, implementation)) return;
                // No baseline: the implementation's states are judged by DomainVerdicts, not the session.
                var snapshot = new SessionSnapshot(node.Model!, implementation, 0, 0, null, null);
                foreach (var choice in _search._alphabet.Next(node.View!))
                {
                    if (_search._stopping) return;
                    Step(node, snapshot, choice);
                    _levelTransitions++;
                    Volatile.Write(ref _transitions, _transitions + 1);
                    if ((_transitions & 255) == 0) _search.Tick();
                }
            }
        }

        /// <summary>The implementation's snapshot at <paramref name="node"/>: the path held so far
        /// is cut back to the node's nearest ancestor on it, and each node below is rebuilt from
        /// its parent's snapshot by running the op that first reached it. Null when the search
        /// ended (the implementation answered differently, or crashed).</summary>
        private SystemSnapshot? Rebuild(Node node)
        {
            var below = new Stack<Node>();
            for (var n = node; n.Depth > 0; n = n.Parent!)
            {
                if (n.Depth < _path.Count && ReferenceEquals(_path[n.Depth].Node, n)) break;
                below.Push(n);
            }
            int keep = below.Count == 0 ? node.Depth + 1 : below.Peek().Depth;
            _path.RemoveRange(keep, _path.Count - keep);
            var impl = _session.Implementation;
            foreach (var child in below)
            {
                SystemSnapshot snapshot;
                try
                {
                    impl.Restore(_path[^1].Implementation);
                    if (child.Choice!.FailNthAllocation > 0) impl.FailNthAllocation(child.Choice.FailNthAllocation);
                    var again = impl.Apply(child.Choice.Op);
                    if (!Equals(again, child.Outcome))
                    {
                        _search.ToolFailure($"{impl.Name} answered {ScenarioPrinter.FormatOp(child.Choice.Op)} from the same state first with " +
                                            $"{Describe(child.Outcome)}, then with {Describe(again)}: explore rebuilds states by running one op again, " +
                                            "which needs an implementation that answers alike from alike states");
                        return null;
                    }
                    snapshot = impl.Snapshot();
                }
                catch (Exception e)
                {
                    _search.Report(child, null, new Finding(FindingKind.ImplementationCrash, 0, "CRASH",
                        $"{impl.Name}'s restore, op or snapshot threw {e.GetType().Name}: {e.Message}"), null);
                    return null;
                }
                _path.Add((child, snapshot));
            }
            return _path[^1].Implementation;
        }

        /// <summary>Whether the implementation comes back to the node's state from its snapshot
        /// (every op of the node starts there); when its restore throws, that is its crash, a
        /// finding, as in <see cref="Rebuild"/>, never an exception out of the search.</summary>
        private bool Restores(Node node, SystemSnapshot implementation)
        {
            var impl = _session.Implementation;
            try
            {
                impl.Restore(implementation);
                return true;
            }
            catch (Exception e)
            {
                _search.Report(node, null, new Finding(FindingKind.ImplementationCrash, 0, "CRASH",
                    $"{impl.Name}'s restore threw {e.GetType().Name}: {e.Message}"), null);
                return false;
            }
        }

        private static string Describe(Outcome? outcome) => outcome is null ? "nothing" : ScenarioPrinter.FormatOutcome(outcome);

        private void Step(Node node, SessionSnapshot from, Choice choice)
        {
            var options = _search._options;
            bool faulted = choice.FailNthAllocation > 0;
            var session = faulted ? FaultSession() : _session;
            bool everyStep = options.ImplementationState == ImplementationStateChecks.EveryOp && !faulted;
            var before = everyStep ? NodeExport(from) : null;
            session.Restore(from);
            var finding = faulted ? session.StepFailingAllocation(choice.Op, choice.FailNthAllocation, () => NodeExport(from)) : session.Step(choice.Op);
            var outcome = session.Steps.Count > 0 ? session.Steps[^1].Expected : null;
            if (finding is not null)
            {
                _search.Report(node, choice, finding, outcome);
                return;
            }
            // An injected failure the model accepted leaves the state as it was: nothing new.
            if (faulted && outcome is Failed { Kind: DmaErrorKind.OutOfMemory }) return;
            if (before is not null && StepCheck(session, before, choice.Op, outcome!) is { } stepBroken)
            {
                _search.Report(node, choice, stepBroken, outcome);
                return;
            }
            // An op the model refused left its state as it was (the same value): the parent's hash,
            // unless the implementation keeps state of its own the model does not see.
            ulong hash = ReferenceEquals(session.ModelView, node.View) && session.Implementation is not IHiddenStateFingerprint ? node.Hash : Hash(session);
            bool unseen = _search.Visit(hash);
            bool fresh = unseen || !options.Deduplicate;
            if (fresh || options.ImplementationState == ImplementationStateChecks.EveryOp)
            {
                if (options.ImplementationState != ImplementationStateChecks.None
                    && _search._verdicts.Check(session.Implementation, Math.Max(0, session.Steps.Count - 1)) is { } broken)
                {
                    _search.Report(node, choice, broken, outcome);
                    return;
                }
            }
            if (!fresh) return;
            _levelNew++;
            (node.Children ??= []).Add(new Node(node, choice, outcome, node.Depth + 1, hash) { Model = session.SaveModel(), View = session.ModelView });
        }

        /// <summary>The step rules on the implementation's states before and after the op (what
        /// the properties engine judges at every step: stale accesses, misuse and failures that
        /// change nothing, completeness), for <see cref="ImplementationStateChecks.EveryOp"/>.</summary>
        private Finding? StepCheck(RefinementSession session, SystemState before, Op op, Outcome outcome)
        {
            int step = Math.Max(0, session.Steps.Count - 1);
            try
            {
                var violations = KnownIncompleteness.Unexplained(InvariantChecker.CheckStep(before, op, outcome, session.Implementation.ExportState()),
                    session.Implementation, outcome, _search._implementation.AcceptKnownIncompleteness);
                return violations.Count == 0 ? null
                    : new Finding(FindingKind.InvariantViolation, step, violations[0].Invariant, string.Join("; ", violations));
            }
            catch (Exception e)
            {
                return new Finding(FindingKind.ImplementationCrash, step, "CRASH",
                    $"{session.Implementation.Name}'s state export or the checker threw {e.GetType().Name}: {e.Message}");
            }
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
            _faultSession ??= new RefinementSession(_search._platform.Platform, _search._implementation.Create,
                _search._implementation.Refinement with
                {
                    InvariantEvery = 0, Model = _search._implementation.ModelOptions with { AllowResourceFailures = true },
                });

        private ulong Hash(RefinementSession session)
        {
            ulong h = _fingerprint.Of(session.ModelView, _search._orders);
            if (session.Implementation is IHiddenStateFingerprint hidden)
                h ^= (hidden.HiddenStateFingerprint() + 0x632B_E59B_D9B4_E019) * 0xD6E8_FEB8_6659_FD93;
            return h;
        }

        public override string ToString() => $"worker {_index}";
    }
}
