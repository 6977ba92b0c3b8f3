using DmaVerify.Contracts;
using DmaVerify.Harness;
using DmaVerify.Model;

namespace DmaVerify.Fuzz.Targets;

/// <summary>An oracle's verdict on one input: the Harness finding (divergence from the model,
/// invariant violation, crash) and the decoded scenario that produced it.</summary>
public sealed class FuzzFinding(string target, Finding finding, Scenario scenario)
    : Exception($"{target}: {finding}")
{
    public string Target { get; } = target;
    public Finding Finding { get; } = finding;
    public Scenario Scenario { get; } = scenario;

    /// <summary>What crash minimisation keeps fixed: a smaller input must fail the same way.</summary>
    public string Signature => Finding.Signature;
}
