namespace Meteora.Engine.Protocol;

/// <summary>A frame that does not decode: truncated, oversized, unknown kind, bad field.</summary>
public sealed class ProtocolException(string message) : Exception(message);
