namespace DmaVerify.Properties;

/// <summary>What a property run checks for each generated case.</summary>
public enum Engine
{
    /// <summary>The reference model alone; every state and step checked against INV-01…15.</summary>
    ModelInvariants,
    /// <summary>An implementation alone; its exported state and steps checked against the invariants.</summary>
    ImplementationInvariants,
    /// <summary>Model vs implementation, a step at a time (RefinementSession).</summary>
    Refinement,
    /// <summary>For a case that passes refinement, fail the n-th internal allocation for every n (INV-15).</summary>
    FaultSweep,
}
