namespace DmaVerify.Fuzz.Engine;

/// <summary>One corpus input, named by the SHA-1 of its bytes.</summary>
public sealed record CorpusUnit(byte[] Data, string Sha1);
