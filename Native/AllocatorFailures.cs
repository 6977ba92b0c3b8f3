namespace DmaVerify.Native;

/// <summary>A plugged allocator could not be loaded: a missing file, a library that does not
/// load, missing symbols, another ABI version, a type that is not an allocator. The message is
/// one line naming what and where (for exit code 2).</summary>
public sealed class AllocatorLoadException(string message) : Exception(message);

/// <summary>The allocator crashed inside a call (a signal in its host process, or an exception
/// out of a .NET allocator): a finding against the allocator. Every instance the crashed host
/// held is gone; calls on them throw this again with the same message.</summary>
public sealed class AllocatorCrashedException(string message) : Exception(message);

/// <summary>A call did not return within the call timeout; the host process was killed. A
/// finding against the allocator (a <see cref="TimeoutException"/>, so callers that know
/// nothing of plug-ins can still tell a hang).</summary>
public sealed class AllocatorHungException(string message) : TimeoutException(message);

/// <summary>The allocator refused to create a space (dv_iova_create returned NULL).</summary>
public sealed class AllocatorRefusedException(string message) : Exception(message);
