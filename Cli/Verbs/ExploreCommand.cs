using System.CommandLine;
using DmaVerify.Contracts;
using DmaVerify.Cli.Composition;
using DmaVerify.Explore;

namespace DmaVerify.Cli.Verbs;

/// <summary>The command-line shape of `verify explore` (options, help, examples).</summary>
internal static class ExploreCommand
{
    public static Command Build(TextWriter output, TextWriter error, Dictionary<Command, string[]> examples)
    {
        var preset = new Option<string[]>("--preset") { Description = $"Explore this preset (repeatable): {string.Join(", ", Presets.Names)} or a variant.", AllowMultipleArgumentsPerToken = true };
        var all = new Option<bool>("--all") { Description = "Explore every preset." };
        var depth = new Option<int>("--depth") { Description = "The longest op sequences explored.", DefaultValueFactory = _ => ExploreOptions.DefaultDepth };
        var impl = new Option<string?>("--impl") { Description = $"The implementation run beside the model ({string.Join(", ", Implementations.Names)}; default {Implementations.Registry.Default.Name})." };
        var ops = new Option<string?>("--ops") { Description = $"The op kinds, comma-separated, '-' to remove: default (all but fault), all, {string.Join(", ", OpKindNames.All.Select(k => k.Name))}; e.g. default,-iommu or all." };
        var maxStates = new Option<long>("--max-states") { Description = "Stop once this many distinct states are known (the run then says how deep it got clean).", DefaultValueFactory = _ => ExploreOptions.DefaultMaxStates };
        var maxLive = new Option<int>("--max-live") { Description = "Scope: maps are offered while fewer mappings are live.", DefaultValueFactory = _ => ExploreOptions.DefaultMaxLive };
        var timeLimit = new Option<double?>("--time-limit") { Description = "Stop each preset after this many seconds (it then says how deep it got clean)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout (status lines go to stderr)." };
        var shard = new Option<string?>("--shard") { Description = "Explore part i of n (i/n): the frontier at --shard-depth is split by state hash; join the parts' --json reports with --merge." };
        var shardDepth = new Option<int?>("--shard-depth") { Description = $"The depth whose frontier --shard splits (every part explores the depths above it in full; default {Shard.DefaultDepth}, or --depth - 1 when that is less)." };
        var merge = new Option<string[]>("--merge") { Description = "Join these --json reports of --shard runs into one report (nothing is explored).", AllowMultipleArgumentsPerToken = true };
        var artifacts = new Option<string?>("--artifacts") { Description = "Where counterexamples are written (default: artifacts/explore beside the nearest corpus/ folder)." };
        var noSymmetry = new Option<bool>("--no-symmetry") { Description = "Do not count states of interchangeable devices as one." };
        var noDedup = new Option<bool>("--no-dedup") { Description = "Explore every sequence, also those that reach a state already seen (exponential)." };
        var implState = new Option<string>("--impl-state") { Description = "When the implementation's exported state is judged by the full checker: new (each new state, default), every (after every op, with the step rules on its states before and after: a failed op must change nothing), none.", DefaultValueFactory = _ => "new" };
        var workers = new Option<int?>("--workers") { Description = $"Threads expanding each depth, each with its own model and implementation (default: one per core, here {Environment.ProcessorCount}; 1 with --allocator). With one, which of several equally short counterexamples is reported does not vary between runs." };
        var listOps = new Option<bool>("--list-ops") { Description = "Print each preset's alphabet in its starting state and exit." };
        var threads = new Option<int?>("--threads")
        {
            Description = $"Systematic concurrency testing instead: 2 or 3 threads on one shared domain, each running every list of 1 to --depth calls (default {InterleavingOptions.DefaultDepth}, at most {ExploreInterleavings.MaxDepth}) of map, unmap #0 and read #0, in every schedule of their calls and of the windows inside calls; each history judged by linearizability against the model.",
        };

        var command = new Command("explore", "Bounded-exhaustive checking: every op sequence of a finite per-state alphabet up to a depth, breadth first, on the model and an implementation in lock step with the invariants after every op; states deduplicated by a canonical hash. A finding is a shortest counterexample.")
        {
            preset, all, depth, impl, ops, maxStates, maxLive, timeLimit, json, shard, shardDepth, merge, artifacts, noSymmetry, noDedup, implState, workers, listOps, threads,
        };
        // Options are read from their tokens here: GetValue throws on an option with an error of
        // its own (a --preset or --merge without a value), which the parser then reports.
        command.Validators.Add(result =>
        {
            bool HasValues(Option option) => result.GetResult(option) is { Tokens.Count: > 0 };
            bool everyPreset = result.GetResult(all) is { Implicit: false } given
                               && (given.Tokens.Count == 0 || bool.TryParse(given.Tokens[0].Value, out bool yes) && yes);
            if (HasValues(preset) && everyPreset) result.AddError("--preset and --all cannot be used together; pick one.");
            if (HasValues(merge) && (HasValues(preset) || everyPreset || HasValues(shard)))
                result.AddError("--merge joins reports; it cannot be used with --preset, --all or --shard.");
        });
        var allocator = new AllocatorOptions();
        allocator.AddTo(command);
        command.SetAction(parse => allocator.Run(parse, "verify explore", error, plugged => ExploreVerb.Run(new ExploreRequest
        {
            Presets = parse.GetValue(preset) ?? [],
            All = parse.GetValue(all),
            Depth = parse.GetValue(depth),
            Implementation = parse.GetValue(impl),
            Ops = parse.GetValue(ops),
            MaxStates = parse.GetValue(maxStates),
            MaxLive = parse.GetValue(maxLive),
            TimeLimitSeconds = parse.GetValue(timeLimit),
            Json = parse.GetValue(json),
            Shard = parse.GetValue(shard),
            ShardDepth = parse.GetValue(shardDepth),
            Merge = parse.GetValue(merge) ?? [],
            Artifacts = parse.GetValue(artifacts),
            NoSymmetry = parse.GetValue(noSymmetry),
            NoDedup = parse.GetValue(noDedup),
            ImplementationState = parse.GetValue(implState) ?? "new",
            ListOps = parse.GetValue(listOps),
            Workers = parse.GetValue(workers),
            DepthGiven = parse.GetResult(depth) is { Implicit: false },
            Threads = parse.GetValue(threads),
        }, output, error, plugged)));
        examples[command] =
        [
            "Examples:",
            "  verify explore --preset k8-gart --depth 4",
            "  verify explore --all --depth 2 --workers 2               # every preset, two cores",
            "  verify explore --preset x86-vtd --ops map,unmap,access,stale --depth 3",
            "  verify explore --preset amd-vi --list-ops",
            "  verify explore --preset x86-vtd --depth 3 --allocator ./libmine.so   # your IOVA allocator under the DMA layer",
            "  verify explore --preset k8-gart --depth 4 --shard 0/2 --json > part0.json   # one of 2 machines",
            "  verify explore --preset k8-gart --depth 4 --shard 1/2 --json > part1.json   # the other",
            "  verify explore --merge part0.json part1.json",
            "  verify explore --preset x86-vtd --threads 2 --depth 1   # every schedule of two threads on one domain",
            "",
            "A finding is a shortest counterexample (every shorter sequence ran clean), written under",
            "--artifacts with the `verify replay` line that runs it again (exit 1). A run stopped by",
            "--max-states or --time-limit says how deep it got clean and exits 0.",
        ];
        return command;
    }
}
