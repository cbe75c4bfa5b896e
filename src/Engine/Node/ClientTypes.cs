using Meteora.Engine.Versioning;

namespace Meteora.Engine.Node;

public enum ClientOperation : byte
{
    Get = 1,
    Set = 2,
    Delete = 3,
}

/// <summary>
/// A client request to the coordinator. <paramref name="Consistency"/> is R for a get and W for a
/// set or delete; null means the node's default. <paramref name="Value"/> is set only for Set.
/// <paramref name="PrimaryOnly"/> (Riak's PR/PW): only the key's N primary replicas count toward R or
/// W; false (the default, a sloppy quorum as in Dynamo): fallback nodes past the first N stand in for
/// primaries that are down, a write leaving them a hint.
/// </summary>
public sealed record ClientRequest(long Id, ClientOperation Operation, string Key, byte[]? Value, int? Consistency, bool PrimaryOnly = false)
{
    public static ClientRequest Get(long id, string key, int? readConsistency = null) =>
        new(id, ClientOperation.Get, key, null, readConsistency);

    public static ClientRequest Set(long id, string key, byte[] value, int? writeConsistency = null) =>
        new(id, ClientOperation.Set, key, value, writeConsistency);

    public static ClientRequest Delete(long id, string key, int? writeConsistency = null) =>
        new(id, ClientOperation.Delete, key, null, writeConsistency);
}

public enum ClientStatus : byte
{
    /// <summary>Get found a value; set/delete reached W durable replicas.</summary>
    Ok = 1,
    /// <summary>Get: R replicas answered and the newest they hold is a tombstone or nothing.</summary>
    NotFound = 2,
    /// <summary>The request itself is bad (key too long, R/W out of range...); nothing was written.</summary>
    InvalidRequest = 3,
    /// <summary>Fewer than R/W replicas answered before the timeout (or too many failed).</summary>
    Unavailable = 4,
}

/// <summary>
/// The coordinator's answer. <paramref name="Acks"/> is how many replicas answered (durable write
/// acks, or read replies) when the answer was given; <paramref name="Required"/> is R or W.
/// For a get, <paramref name="Version"/> is the newest version seen (a tombstone's for NotFound, or
/// zero when no replica had the key); for a set/delete, the version written.
/// </summary>
public sealed record ClientResult(
    long RequestId,
    ClientOperation Operation,
    ClientStatus Status,
    string Key,
    byte[]? Value,
    WriteVersion Version,
    int Acks,
    int Required,
    string? Error);
