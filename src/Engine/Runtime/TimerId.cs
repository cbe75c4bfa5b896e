namespace Meteora.Engine.Runtime;

/// <summary>Which room a timer belongs to; the node routes a firing timer by this alone.</summary>
public enum TimerOwner : byte
{
    /// <summary>A coordinator request's timeout (id: the request id).</summary>
    ClientRequest = 1,

    /// <summary>A reply or ack a buggify site held back (id: the delayed send's id).</summary>
    DelayedSend = 2,

    /// <summary>The next slice of the Merkle rebuild after a start (id: a rebuild sequence number).</summary>
    MerkleRebuild = 3,

    /// <summary>Anti-entropy's periodic tick: background repair rounds and tombstone purges.</summary>
    MaintenanceTick = 4,

    /// <summary>A repair request's or repair push's timeout (id: the repair request id).</summary>
    RepairRequest = 5,

    /// <summary>The next slice of tombstone purges while a backlog remains (id: a slice sequence number).</summary>
    TombstonePurge = 6,

    /// <summary>The failure detector's next round of heartbeats (id: the heartbeat sequence number).</summary>
    Heartbeat = 7,

    /// <summary>The next gossip round (id: the round number).</summary>
    Gossip = 8,

    /// <summary>The membership room's tick: join retries, ring-change request timeouts, transfer reports (id: tick number).</summary>
    Membership = 9,

    /// <summary>The partition streaming room's tick: transfer and handoff sessions, drops (id: tick number).</summary>
    Streaming = 10,

    /// <summary>The hinted-handoff room's tick: replays to targets that came back, expired hints (id: tick number).</summary>
    Handoff = 11,
}

/// <summary>A timer's identity: its owner plus an id drawn from that owner's own counter.</summary>
public readonly record struct TimerId(TimerOwner Owner, long Id)
{
    public override string ToString() => $"{Owner}:{Id}";
}
