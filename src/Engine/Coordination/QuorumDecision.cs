namespace Meteora.Engine.Coordination;

/// <summary>
/// What a quorum core tells its coordinator to do after one more reply, failure or timeout. A core
/// returns a non-<see cref="Wait"/> decision exactly once per request: the client is answered once.
/// </summary>
public enum QuorumDecision : byte
{
    /// <summary>Nothing to answer yet (or the answer was already given).</summary>
    Wait = 0,

    /// <summary>Write: W replicas acked durably. Read: R replicas replied and the newest is a value.</summary>
    Ok = 1,

    /// <summary>Read: R replicas replied and the newest they hold is a tombstone or nothing.</summary>
    NotFound = 2,

    /// <summary>Too many replicas failed for R/W to be reached, or the request timed out first.</summary>
    Unavailable = 3,
}
