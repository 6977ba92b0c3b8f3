namespace DmaVerify.Contracts;

/// <summary>
/// Optional for an <see cref="ISystemUnderTest"/> whose later behaviour depends on state that the
/// model does not hold: caches (IOTLB walks, per-size IOVA magazines), counters, anything kept
/// beside what <see cref="ISystemUnderTest.ExportState"/> shows. A bounded-exhaustive search
/// (<c>verify explore</c>) explores each abstract state once; it counts two of this system's
/// states as one only when the model's states hash alike and so do these fingerprints. Without
/// it, the search assumes the system behaves as a function of the state the model sees.
/// </summary>
public interface IHiddenStateFingerprint
{
    /// <summary>A hash of that hidden state: equal whenever later behaviour is equal (0 when
    /// nothing is hidden right now). Cheap: called after every explored op.</summary>
    ulong HiddenStateFingerprint();
}
