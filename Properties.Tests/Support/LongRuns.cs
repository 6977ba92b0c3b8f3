namespace DmaVerify.Properties.Tests.Support;

/// <summary>
/// Opt-in for Category=Long tests: xunit runs every test unless filtered, so long tests also
/// check <c>DMAVERIFY_LONG=1</c> and return at once without it. Run them with
/// <c>DMAVERIFY_LONG=1 dotnet test Properties.Tests --filter Category=Long</c>.
/// </summary>
public static class LongRuns
{
    public const string Variable = "DMAVERIFY_LONG";

    public static bool Enabled => Environment.GetEnvironmentVariable(Variable) == "1";
}
