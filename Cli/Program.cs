namespace DmaVerify.Cli;

public static class Program
{
    public static int Main(string[] args) =>
        // An allocator host starts straight away: no command line to build, nothing on stdout.
        args is [Native.Isolation.AllocatorHost.Verb, .. var rest]
            ? Native.Isolation.AllocatorHost.Main(rest, Console.Error)
            : VerifyCli.Run(args, Console.Out, Console.Error);
}
