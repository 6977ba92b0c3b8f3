using BenchmarkDotNet.Attributes;
using DmaVerify.Contracts;
using DmaVerify.Optimized.Dma;

namespace DmaVerify.Bench;

/// <summary>
/// Map/unmap throughput with 1, 2 and 4 threads, each thread driving its own x86-vtd device
/// (each device has its own default domain, so threads share no domain): one benchmark
/// operation = every thread doing <see cref="PerThread"/> 4 KiB map+unmap pairs with 1,000 live
/// mappings per device; the time is the wall time until all threads are done. Throughput
/// scaling is time(1) × threads / time(threads).
/// </summary>
public class ThreadedMapUnmap
{
    public const int PerThread = 2_000;
    private const int Live = 1_000;

    [Params(1, 2, 4)]
    public int Threads { get; set; }

    private OptimizedSystem _system = null!;
    private Thread[] _workers = [];
    private Barrier _start = null!, _done = null!;
    private volatile bool _stop;

    // x86-vtd devices 0, 1, 3 are trusted (device 2 is untrusted: strict invalidation), 4 threads
    // take 0, 1, 3 and 2; device 1 is 32-bit, which only changes where its IOVAs go.
    private static readonly int[] Devices = [0, 3, 1, 2];

    [GlobalSetup]
    public void Setup()
    {
        _system = new OptimizedSystem(Presets.Get(Presets.X86Vtd));
        for (int t = 0; t < Threads; t++)
            for (int i = 0; i < Live; i++)
                Workloads.Expect(_system.Apply(MapOf(t, i)), "setup map");
        _start = new Barrier(Threads + 1);
        _done = new Barrier(Threads + 1);
        _workers = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() => Work(t)) { IsBackground = true })];
        foreach (var w in _workers) w.Start();
    }

    private static Op MapOf(int thread, int i) =>
        new Map(Devices[thread], new PhysAddr(0x1000_0000UL + ((ulong)thread << 24) + (ulong)i * 0x1000), 0x1000, DmaDirection.ToDevice);

    private void Work(int t)
    {
        var map = MapOf(t, Live + 1);
        while (true)
        {
            _start.SignalAndWait();
            if (_stop) return;
            for (int i = 0; i < PerThread; i++)
            {
                var mapped = (Mapped)_system.Apply(map);
                _system.Apply(new Unmap(Devices[t], new RawRef(mapped.Dma.Value), 0x1000, DmaDirection.ToDevice));
            }
            _done.SignalAndWait();
        }
    }

    [Benchmark]
    public void AllThreads()
    {
        _start.SignalAndWait();
        _done.SignalAndWait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _start.SignalAndWait();
        foreach (var w in _workers) w.Join();
    }
}
