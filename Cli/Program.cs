namespace DmaVerify.Cli;

public static class Program
{
    public static int Main(string[] args) => VerifyCli.Run(args, Console.Out, Console.Error);
}
