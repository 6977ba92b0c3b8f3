namespace DmaVerify.Proofs.Z3;

/// <summary>Z3 rejected a call (sort mismatch, bad parameter); the message is Z3's own.</summary>
public sealed class Z3Exception(string message) : Exception(message);

/// <summary>libz3 could not be loaded: one message that says what to install.</summary>
public sealed class Z3UnavailableException() : Exception(
    "Z3 is not available: libz3.so.4 could not be loaded. Install it with `apt-get install libz3-4` " +
    "(Debian/Ubuntu; the proofs use Z3 4.8.12's C API).");
