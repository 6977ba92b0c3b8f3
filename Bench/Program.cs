using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace DmaVerify.Bench;

/// <summary>
/// <c>dotnet run -c Release --project Bench -- [--quick] [BenchmarkDotNet arguments]</c>.
/// Prints the page-table memory report, then runs the workloads (all, or those a
/// <c>--filter</c> selects). <c>--quick</c>: in-process, 1 warm-up and 3 measured iterations
/// (a smoke run whose ratios are rough); the default: a separate process, 3 warm-ups and 10
/// iterations. Exit code 0 when every benchmark ran, 1 otherwise.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        bool quick = args.Contains("--quick");
        string[] rest = [.. args.Where(a => a != "--quick")];
        if (!rest.Contains("--filter")) rest = [.. rest, "--filter", "*"];

        PageTableMemory.Print(Console.Out, quick ? 10_000 : 100_000);

        var job = quick
            ? Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithId("quick")
            : Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithId("full");
        var config = ManualConfig.Create(DefaultConfig.Instance).AddJob(job);
        // The plugged-allocator workloads exist only when `verify bench --allocator` names one.
        var types = typeof(Program).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && t.GetMethods().Any(m => m.IsDefined(typeof(BenchmarkDotNet.Attributes.BenchmarkAttribute), false)))
            .Where(t => Plugged.Given || !t.Name.StartsWith(nameof(Plugged), StringComparison.Ordinal))
            .ToArray();
        if (Plugged.Given) Console.WriteLine($"Plugged = {Plugged.Allocator.Describe()}");
        var summaries = BenchmarkSwitcher.FromTypes(types).Run(rest, config).ToList();
        bool ok = summaries.Count > 0 && summaries.All(s => !s.HasCriticalValidationErrors && s.Reports.All(r => r.Success));
        return ok ? 0 : 1;
    }
}
