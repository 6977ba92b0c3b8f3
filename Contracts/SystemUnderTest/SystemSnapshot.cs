namespace DmaVerify.Contracts;

/// <summary>
/// A saved state of one kind of system under test, from <see cref="ISystemUnderTest.Snapshot"/>.
/// Opaque outside the system that made it; immutable, so one snapshot can be restored any
/// number of times, into the system that made it or into another instance of the same kind
/// built over the same <see cref="Platform"/> object.
/// </summary>
public abstract class SystemSnapshot
{
    protected SystemSnapshot(PlatformConfig platform) => Platform = platform;

    /// <summary>The platform the snapshotted system was built over.</summary>
    public PlatformConfig Platform { get; }
}
