using System.CommandLine;
using DmaVerify.Cli.Check;
using DmaVerify.Cli.Text;

namespace DmaVerify.Cli.Verbs;

/// <summary>The command-line shape of `verify check` (options, help, examples).</summary>
internal static class CheckCommand
{
    public static Command Build(TextWriter output, TextWriter error, IScenarioText text, Dictionary<Command, string[]> examples)
    {
        var quick = new Option<bool>("--quick") { Description = "A short run (about a minute on 2 cores): fewer cases and ops, 2 s fuzz runs, the proofs that take under 2 s." };
        var longRun = new Option<bool>("--long") { Description = "An overnight run: property runs up to 5 minutes and 2*10^7 ops each, 20-minute fuzz runs, every proof. Resumable: run the same command again after a stop and it continues where it was (--fresh starts over)." };
        var fresh = new Option<bool>("--fresh") { Description = "With --long: ignore the journal of an interrupted run and start over." };
        var plant = new Option<string?>("--plant") { Description = "Check a planted bug of the catalog (docs/planted-bugs.md) in place of the real implementations: the check must fail. 'all' checks every planted bug and prints which engine caught each (exit 0 when all were caught)." };
        var seed = new Option<int>("--seed") { Description = "Seed for the generated runs (default 1); the same seed gives the same run.", DefaultValueFactory = _ => 1 };
        var report = new Option<string?>("--report") { Description = "Also write the table and failures as Markdown to this file." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on stdout instead of the table (progress goes to stderr)." };
        var junit = new Option<string?>("--junit") { Description = "Also write JUnit XML to this file, for CI systems." };
        var engine = new Option<string[]>("--engine") { Description = "Run only these engines or families (e.g. corpus, corpus:optimized); repeatable.", AllowMultipleArgumentsPerToken = true };
        var target = new Option<string[]>("--target") { Description = "Run only items for these presets (or '-' for preset-independent items); repeatable.", AllowMultipleArgumentsPerToken = true };
        var corpus = new Option<string?>("--corpus") { Description = "The corpus folder (default: the nearest corpus/ at or above the current folder)." };

        var command = new Command("check", "The main job: every engine on every preset (corpus replay on the model and each implementation, properties, fuzzing, bounded-exhaustive exploration, proofs), then a table with pass/fail, counts and time, and the command that replays each failure.")
        {
            quick, longRun, seed, report, json, junit, engine, target, corpus, plant, fresh,
        };
        // On the tokens: a value that is not a number is the parser's error, reported once.
        seed.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && int.TryParse(token.Value, out int value) && value < 0)
                result.AddError($"--seed: '{value}' is below 0; seeds are 0 to {int.MaxValue}");
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(quick) && result.GetValue(longRun))
                result.AddError("--quick and --long cannot be used together; pick one (or neither for the default run).");
            if (result.GetValue(fresh) && !result.GetValue(longRun))
                result.AddError("--fresh goes with --long (only a long run keeps a journal to resume from).");
        });
        var allocator = new AllocatorOptions();
        allocator.AddTo(command);
        command.SetAction(parse => allocator.Run(parse, "verify check", error, plugged => CheckVerb.Run(new CheckRequest(
            parse.GetValue(quick) ? CheckLevel.Quick : parse.GetValue(longRun) ? CheckLevel.Long : CheckLevel.Default,
            parse.GetValue(seed),
            parse.GetValue(report),
            parse.GetValue(json),
            parse.GetValue(junit),
            parse.GetValue(engine) ?? [],
            parse.GetValue(target) ?? [],
            parse.GetValue(corpus),
            parse.GetValue(plant),
            parse.GetValue(fresh)), output, error, text, plugged: plugged)));
        examples[command] =
        [
            "Examples:",
            "  verify check                      # the default run, about 5 minutes on 2 cores",
            "  verify check --quick              # about a minute",
            "  verify check --engine corpus --target x86-vtd",
            "  verify check --engine corpus --report check.md --junit check.xml",
            "  verify check --quick --allocator ./libmine.so   # your allocator under the DMA layer, and its conformance",
            "  verify check --plant iova-limit-past-by-one --engine corpus --target x86-vtd   # exits 1: the corpus catches the planted bug",
        ];
        return command;
    }
}
