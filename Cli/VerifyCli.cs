using DmaVerify.Cli.Composition;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;

namespace DmaVerify.Cli;

/// <summary>
/// The `verify` command line. <see cref="Run(string[], TextWriter, TextWriter)"/>
/// is the whole program with its output streams passed in, so tests run it in-process.
/// </summary>
public static class VerifyCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        Run(args, output, error, ScenarioTextForm.Current);

    internal static int Run(string[] args, TextWriter output, TextWriter error, IScenarioText text)
    {
        var root = Build(output, error, text);
        var parse = root.Parse(args);
        // Our own handler: one "DmaVerify failed:" line and exit 3, not the library's stack
        // trace and exit 1 (which here means a finding).
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };

        // Usage errors (unknown verb, missing FILE) exit 2 like other bad input, not the
        // library's default 1, which here means "violations found".
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors)
                error.WriteLine($"verify: {InPlainWords(e.Message)}");
            error.WriteLine("Run 'verify --help' for usage.");
            return ExitCodes.BadInput;
        }
        try
        {
            return parse.Invoke(config);
        }
        catch (Exception e)
        {
            return ToolFailure.Report(e, error);
        }
    }

    /// <summary>The command-line library's type errors in words ("'abc' is not a whole number"),
    /// not .NET type names.</summary>
    private static string InPlainWords(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, "^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\\.?$");
        if (!m.Success) return message;
        string expected = m.Groups[3].Value switch
        {
            "System.Int32" => $"a whole number from {int.MinValue} to {int.MaxValue}",
            "System.Int64" => $"a whole number from {long.MinValue} to {long.MaxValue}",
            "System.Boolean" => "true or false",
            var other => $"a value of type {other[(other.LastIndexOf('.') + 1)..]}",
        };
        return $"{m.Groups[2].Value}: '{m.Groups[1].Value}' is not {expected}";
    }

    private static RootCommand Build(TextWriter output, TextWriter error, IScenarioText text)
    {
        var root = new RootCommand(
            "DmaVerify: checks IOMMU and DMA-mapping behaviour against an executable reference model.");

        root.HelpName = "verify"; // also when run in-process by the tests (testhost)
        var examples = new Dictionary<Command, string[]>();

        var replayFile = new Argument<string>("FILE") { Description = "A scenario in the text form (preset header, one op per line)." };
        var replay = new Command("replay", "Run a scenario on the reference model; print each op, its outcome and any invariant violation or expected-outcome mismatch.")
        {
            replayFile,
        };
        var replayTarget = new Option<string>("--target") { Description = "FILE is a fuzz input (crash-, timeout- or corpus file) of this fuzz target." };
        var replayImpl = new Option<string?>("--impl") { Description = $"Also run this implementation beside the model and show where they part ({string.Join(", ", Implementations.Names)}); fuzz inputs default to {Implementations.Registry.Default.Name}." };
        var saveRegression = new Option<bool>("--save-regression") { Description = "For fuzz inputs that fail: write the ops as a .scn into corpus/regressions/ (see --regression-dir)." };
        var regressionDir = new Option<string>("--regression-dir") { Description = "Where --save-regression writes.", DefaultValueFactory = _ => Path.Combine("corpus", "regressions") };
        replay.Add(replayTarget);
        replay.Add(replayImpl);
        replay.Add(saveRegression);
        replay.Add(regressionDir);
        var failAlloc = new Option<string[]>("--fail-alloc") { Description = "With --impl: run step STEP with the implementation's N-th internal allocation failing (STEP:N, repeatable; as `verify explore` prints).", AllowMultipleArgumentsPerToken = true };
        replay.Add(failAlloc);
        var replayAllocator = new AllocatorOptions();
        replayAllocator.AddTo(replay);
        replay.SetAction(parse => replayAllocator.Run(parse, "verify replay", error, plugged => ReplayVerb.Run(parse.GetValue(replayFile)!,
            parse.GetValue(replayTarget), parse.GetValue(replayImpl), parse.GetValue(saveRegression) ? parse.GetValue(regressionDir) : null,
            output, error, text, plugged, parse.GetValue(failAlloc) ?? [])));
        examples[replay] =
        [
            "Examples:",
            "  verify replay corpus/examples/gart-aperture.scn",
            "  verify replay corpus/examples/gart-aperture.scn --impl linuxstyle",
            "  verify replay corpus/k8-gart/f7de205fe8a994b65fd566e1606e25809d84cd68 --target k8-gart",
            "  verify replay corpus/examples/gart-aperture.scn --allocator ./libmine.so",
            "  verify replay artifacts/check/conformance/libmine-0123abcd.iova --allocator ./libmine.so",
            "",
            "A fuzz input (crash-, timeout- or corpus file) is decoded and run model vs implementation;",
            "its target comes from --target or the folder name. --save-regression keeps a failing one",
            "as a scenario. Malformed files are reported as file:line:col: message (exit 2).",
        ];
        root.Add(replay);

        var showFile = new Argument<string>("FILE") { Description = "A scenario in the text form." };
        var showSvg = new Option<string>("--svg") { Description = "Draw the state as an SVG picture in this file (broken log address axis, violations in red) instead of printing it.", HelpName = "OUT.svg" };
        var showImpl = new Option<string?>("--impl") { Description = $"Also run this implementation ({string.Join(", ", Implementations.Names)}) and print its exported state beside the model's, every difference marked with '!' and listed." };
        var show = new Command("show", "Run a scenario on the reference model and print each domain's IOVA space (aperture, allocations, reserved, MSI and direct ranges, flush queue) and each device's DMA limits and bypass window.")
        {
            showFile,
            showSvg,
            showImpl,
        };
        var showAllocator = new AllocatorOptions();
        showAllocator.AddTo(show);
        show.SetAction(parse => showAllocator.Run(parse, "verify show", error, plugged =>
            ShowVerb.Run(parse.GetValue(showFile)!, parse.GetValue(showSvg), parse.GetValue(showImpl), output, error, text, plugged)));
        examples[show] =
        [
            "Examples:",
            "  verify show corpus/examples/gart-aperture.scn",
            "  verify show corpus/examples/soc-vcm-shared-tables.scn --svg soc-vcm.svg",
            "  verify show corpus/examples/virtio-bypass.scn --impl optimized",
            "  verify show corpus/examples/virtio-bypass.scn --allocator ./libmine.so",
            "  rsvg-convert -o soc-vcm.png soc-vcm.svg      # to PNG (Debian: librsvg2-bin)",
            "",
            "The state shown is the one after the last step that completed. With --impl the exit code is",
            "the model replay's; differences between the two states are shown, not judged (replay --impl judges).",
        ];
        root.Add(show);

        root.Add(CheckCommand.Build(output, error, text, examples));
        root.Add(ExploreCommand.Build(output, error, examples));
        root.Add(FuzzCommand(output, error, examples));
        var instrumentInput = new Argument<string>("IN.dll") { Description = "An IL-only .NET assembly." };
        var instrumentOutput = new Option<string?>("--out") { Description = "Where to write the instrumented copy (default: rewrite IN.dll in place)." };
        var instrument = new Command("instrument", "Insert AFL edge-coverage probes (SharpFuzz-style) into an assembly, for `verify fuzz` or afl-fuzz.")
        {
            instrumentInput, instrumentOutput,
        };
        instrument.SetAction(parse => InstrumentVerb.Run(parse.GetValue(instrumentInput)!, parse.GetValue(instrumentOutput), output, error));
        examples[instrument] =
        [
            "Examples:",
            "  verify instrument Cli/bin/Release/net10.0/DmaVerify.Optimized.dll --out inst/DmaVerify.Optimized.dll",
            "",
            "An already instrumented assembly is copied unchanged (exit 0); a missing file, a file that is",
            "not a .NET assembly, a mixed-mode assembly or the fuzz runtime itself is refused (exit 2).",
        ];
        root.Add(instrument);

        var aflTarget = new Argument<string>("TARGET") { Description = "PATH.dll:Namespace.Type.Method, a public static method taking ReadOnlySpan<byte> or byte[]; an exception is a finding." };
        var aflInput = new Argument<string?>("INPUT") { Description = "The input file (afl-fuzz's @@); default: standard input.", Arity = ArgumentArity.ZeroOrOne };
        var aflInstrument = new Option<string[]>("--instrument") { Description = "Also instrument these assemblies (names beside verify, or paths), e.g. DmaVerify.Model.", AllowMultipleArgumentsPerToken = true };
        var aflCache = new Option<string?>("--cache") { Description = "Folder for instrumented copies (default $DMAVERIFY_CACHE or ~/.cache/dmaverify/instrumented)." };
        var fuzzAfl = new Command("fuzz-afl", "Run a fuzz target under afl-fuzz (fork server on fd 198/199, shared-memory coverage map, crash-surviving runner process); without afl-fuzz, run it once on INPUT.")
        {
            aflTarget, aflInput, aflInstrument, aflCache,
        };
        fuzzAfl.SetAction(parse => FuzzAflVerb.Run(parse.GetValue(aflTarget)!, parse.GetValue(aflInput), parse.GetValue(aflInstrument) ?? [], parse.GetValue(aflCache), output, error));
        examples[fuzzAfl] =
        [
            "Examples:",
            "  AFL_SKIP_BIN_CHECK=1 afl-fuzz -i seeds -o findings -t 5000 -m none -- verify fuzz-afl x86-vtd",
            "  verify fuzz-afl mixed corpus/mixed/cb52d4287b6005ea0309ed9d5b563d1a72df2740",
            "",
            "Without afl-fuzz, INPUT runs once: exit 1 when it is a finding.",
        ];
        root.Add(fuzzAfl);
        var benchQuick = new Option<bool>("--quick") { Description = "In-process, 1 warm-up and 3 iterations: a smoke run with rough ratios." };
        var benchFilter = new Option<string?>("--filter") { Description = "BenchmarkDotNet filter, e.g. *HotMapUnmap* (default: all)." };
        var bench = new Command("bench", "Run the benchmarks (Bench/, BenchmarkDotNet, Release) as a child process and print their ratio tables.") { benchQuick, benchFilter };
        var benchAllocator = new AllocatorOptions();
        benchAllocator.AddTo(bench);
        bench.SetAction(parse => benchAllocator.Run(parse, "verify bench", error, plugged =>
            BenchVerb.Run(parse.GetValue(benchQuick), parse.GetValue(benchFilter), output, error, plugged: plugged)));
        examples[bench] =
        [
            "Examples:",
            "  verify bench --quick",
            "  verify bench --filter '*HotMapUnmap*'",
            "  verify bench --allocator ./libmine.so      # yours beside Optimized and LinuxStyle (*Plugged* workloads)",
            "",
            "Runs: dotnet run -c Release --project Bench/Bench.csproj -- [--quick] [--filter PATTERN]",
            "Benchmarks give no verdict: a benchmark run that fails, or a dotnet that cannot start, is exit 3.",
        ];
        root.Add(bench);
        var proveFilter = new Option<string?>("--filter") { Description = "Obligation ids or id prefixes, comma-separated (PO-40, PO-4)." };
        var proveSmt2 = new Option<string?>("--smt2") { Description = "Write each query as SMT-LIB2 (DIR/PO-xx.smt2; unsat = holds)." };
        var proveTests = new Option<string>("--tests") { Description = "Where generated counterexample tests go.", DefaultValueFactory = _ => "counterexamples" };
        var proveExtended = new Option<bool>("--extended") { Description = "Also the obligations too slow for the default run (PO-33)." };
        var prove = new Command("prove", "Prove the obligations (PO-xx) on Optimized's kernels, lifted from their IL to Z3.") { proveFilter, proveExtended, proveSmt2, proveTests };
        prove.SetAction(parse => ProveVerb.Run(parse.GetValue(proveFilter), parse.GetValue(proveExtended), parse.GetValue(proveSmt2), parse.GetValue(proveTests)!, output, error));
        examples[prove] = ["Examples:", "  verify prove", "  verify prove --filter PO-40 --smt2 smt2/", "",
            "A refuted obligation is a finding (1); one Z3 cannot decide, or a kernel the lifter cannot",
            "read, is not a verdict (3); so is a missing libz3 (3)."];
        root.Add(prove);

        examples[root] =
        [
            "Examples:",
            "  verify check --quick",
            "  verify replay corpus/examples/gart-aperture.scn",
            "  verify show corpus/examples/gart-aperture.scn",
            "  verify replay --help",
        ];

        InstallExamples(root, examples);
        return root;
    }

    private static Command FuzzCommand(TextWriter output, TextWriter error, Dictionary<Command, string[]> examples)
    {
        var target = new Argument<string>("TARGET") { Description = $"A fuzz target: {string.Join(", ", Fuzz.Targets.FuzzTargets.Names)}." };
        var rest = new Argument<string[]>("CORPUS_DIR") { Description = "Corpus folders (new inputs go to the first), or input files to run once; then libFuzzer-style -flag=value options.", Arity = ArgumentArity.ZeroOrMore };
        var fuzz = new Command("fuzz", "Coverage-guided fuzzing of a target in process (libFuzzer's flags and status lines): the model and the implementation run side by side on decoded op lists.") { target, rest };
        fuzz.TreatUnmatchedTokensAsErrors = false;
        var allocator = new AllocatorOptions();
        allocator.AddTo(fuzz);
        fuzz.SetAction(parse => allocator.Run(parse, "verify fuzz", error, plugged =>
            FuzzVerb.Run(parse.GetValue(target)!, [.. parse.GetValue(rest) ?? [], .. parse.UnmatchedTokens], output, error, plugged)));
        examples[fuzz] =
        [
            "Examples:",
            "  verify fuzz direct work/direct corpus/direct -runs=500 -artifact_prefix=findings/",
            "  verify fuzz mixed work/mixed corpus/mixed -jobs=2 -workers=2 -runs=100",
            "  verify fuzz amd-vi work/amd-vi corpus/amd-vi -runs=300 -use_value_profile=1   # comparison feedback",
            "  verify fuzz k8-gart -minimize_crash=1 -runs=10000 findings/crash-<sha1>",
            "  verify replay findings/crash-<sha1> --target k8-gart",
            "  verify fuzz x86-vtd corpus/x86-vtd -max_total_time=60 --allocator ./libmine.so",
            "",
            "Flags (libFuzzer style, single dash):",
            .. Fuzz.Engine.FuzzOptions.Flags.Select(f => $"  {f.Flag,-22}{f.Help}"),
            "",
            "A crash, divergence or timeout is a finding (exit 1, or -error_exitcode / -timeout_exitcode),",
            "written to -artifact_prefix or, when that cannot be written, to the first corpus folder or the",
            "working folder (the log says where). A corpus or artifact path that is unusable at the start",
            "is bad input (2); a corpus folder that cannot be written during the run stops it (3).",
        ];
        return fuzz;
    }

    /// <summary>Adds examples (and notes such as exit codes) at the end of each command's help.</summary>
    private static void InstallExamples(RootCommand root, Dictionary<Command, string[]> examples)
    {
        var help = root.Options.OfType<HelpOption>().FirstOrDefault();
        if (help?.Action is HelpAction standard)
            help.Action = new HelpWithExamples(standard, examples);
    }

    /// <summary>The standard help, then the command's examples.</summary>
    private sealed class HelpWithExamples(HelpAction standard, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int rc = standard.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                foreach (var line in lines)
                    output.WriteLine(line);
                output.WriteLine();
            }
            foreach (var line in ExitCodes.Table)
                output.WriteLine(line);
            output.WriteLine();
            return rc;
        }
    }
}
