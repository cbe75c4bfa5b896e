namespace Meteora.Net.Storage;

/// <summary>
/// A data directory written in a key layout this version cannot read. An <see cref="IOException"/>,
/// so <c>meteora node</c> reports it as a one-line startup failure.
/// </summary>
public sealed class StorageFormatException(string message) : IOException(message);
