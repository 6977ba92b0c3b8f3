using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using DmaVerify.Cli.Text;
using DmaVerify.Cli.Verbs;

namespace DmaVerify.Cli;

/// <summary>
/// The `verify` command line (DESIGN §9). <see cref="Run(string[], TextWriter, TextWriter)"/>
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
        var config = new InvocationConfiguration { Output = output, Error = error };

        // Usage errors (unknown verb, missing FILE) exit 2 like other bad input, not the
        // library's default 1, which here means "violations found".
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors)
                error.WriteLine($"verify: {e.Message}");
            error.WriteLine("Run 'verify --help' for usage.");
            return ExitCodes.BadInput;
        }
        return parse.Invoke(config);
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
        replay.SetAction(parse => ReplayVerb.Run(parse.GetValue(replayFile)!, output, error, text));
        examples[replay] =
        [
            "Examples:",
            "  verify replay map-unmap.scn",
            "  dotnet run --project Cli -- replay map-unmap.scn",
            "",
            "Exit codes:",
            "  0  every step ran; no invariant violation, no expected-outcome mismatch",
            "  1  an invariant violation or an expected-outcome mismatch",
            "  2  bad input: FILE missing, unreadable or malformed (printed as file:line:col: message),",
            "     or a scenario that does not build (unknown preset, bad device override)",
            "  3  the model or the invariant checker crashed (a bug in DmaVerify)",
        ];
        root.Add(replay);

        var showFile = new Argument<string>("FILE") { Description = "A scenario in the text form." };
        var showSvg = new Option<string>("--svg") { Description = "Draw the state as an SVG picture in this file (broken log address axis, violations in red) instead of printing it.", HelpName = "OUT.svg" };
        var show = new Command("show", "Run a scenario on the reference model and print each domain's IOVA space (aperture, allocations, reserved, MSI and direct ranges, flush queue) and each device's DMA limits and bypass window.")
        {
            showFile,
            showSvg,
        };
        show.SetAction(parse => ShowVerb.Run(parse.GetValue(showFile)!, parse.GetValue(showSvg), output, error, text));
        examples[show] =
        [
            "Examples:",
            "  verify show map-unmap.scn",
            "  verify show corpus/examples/soc-vcm-shared-tables.scn --svg soc-vcm.svg",
            "  rsvg-convert -o soc-vcm.png soc-vcm.svg      # to PNG (Debian: librsvg2-bin)",
            "",
            "The state shown is the one after the last step that completed. Exit codes as for replay;",
            "with --svg, an OUT that cannot be written is bad input (2).",
        ];
        root.Add(show);

        examples[root] =
        [
            "Examples:",
            "  verify replay map-unmap.scn",
            "  verify show map-unmap.scn",
            "  verify replay --help",
        ];

        InstallExamples(root, examples);
        return root;
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
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                var output = parseResult.InvocationConfiguration.Output;
                foreach (var line in lines)
                    output.WriteLine(line);
                output.WriteLine();
            }
            return rc;
        }
    }
}
