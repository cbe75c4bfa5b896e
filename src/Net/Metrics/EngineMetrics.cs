using Meteora.Engine.Node;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// The engine's own counts (<see cref="NodeCounters"/>: quorums, read repair, anti-entropy), copied
/// into Prometheus counters at each scrape. The engine writes them on its loop thread; we read them
/// with <see cref="Volatile.Read(ref long)"/>, so a scrape never waits for the loop.
/// </summary>
public sealed class EngineMetrics
{
    private readonly NodeCounters _counters;
    private readonly Counter.Child _writeAcks;
    private readonly Counter.Child _writeFailures;
    private readonly Counter.Child _readReplies;
    private readonly Counter.Child _readFailures;
    private readonly Counter _readRepairs;
    private readonly Counter _quorumTimeouts;
    private readonly Counter _antiEntropyRounds;
    private readonly Counter.Child _jobsDone;
    private readonly Counter.Child _jobsFailed;
    private readonly Counter _sessionsFailed;
    private readonly Counter _keysRepaired;
    private readonly Counter _repairBytes;
    private readonly Gauge _jobRunning;
    private readonly Gauge _hintsPending;
    private readonly Gauge _hintsBytesPending;
    private readonly Counter _hintsStored;
    private readonly Counter _hintsDelivered;
    private readonly Counter _hintsDropped;
    private readonly Counter _hintsRefused;
    private readonly Counter _hintsObsolete;
    private readonly Counter _hintedWrites;
    private readonly Counter _hintReplaysRefused;

    public EngineMetrics(IMetricFactory factory, NodeCounters counters)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        Counter replica = factory.CreateCounter("meteora_replica_responses_total",
            "Replica answers the coordinator counted, by request kind (write, read) and result (ok; failed = nack or not sendable).",
            ["kind", "result"]);
        _writeAcks = replica.WithLabels("write", "ok");
        _writeFailures = replica.WithLabels("write", "failed");
        _readReplies = replica.WithLabels("read", "ok");
        _readFailures = replica.WithLabels("read", "failed");
        _readRepairs = factory.CreateCounter("meteora_read_repairs_sent_total", "Read-repair messages sent to replicas that answered a read with an older version.");
        _quorumTimeouts = factory.CreateCounter("meteora_quorum_timeouts_total", "Client requests that failed because R or W replicas did not answer before the request timeout.");
        _antiEntropyRounds = factory.CreateCounter("meteora_anti_entropy_rounds_total", "Background anti-entropy rounds started.");
        Counter jobs = factory.CreateCounter("meteora_repair_jobs_finished_total", "Repair jobs (background rounds and on-demand) that finished, by state (done, failed).", ["state"]);
        _jobsDone = jobs.WithLabels("done");
        _jobsFailed = jobs.WithLabels("failed");
        _sessionsFailed = factory.CreateCounter("meteora_repair_sessions_failed_total", "Partition repair sessions that ran out of retries.");
        _keysRepaired = factory.CreateCounter("meteora_repair_keys_repaired_total", "Keys that finished repair sessions pushed to or pulled from a peer.");
        _repairBytes = factory.CreateCounter("meteora_repair_sent_bytes_total", "Encoded bytes of the repair messages that finished sessions sent.");
        _jobRunning = factory.CreateGauge("meteora_repair_job_running", "1 while a repair job (background or on-demand) runs on this node, else 0.");
        _hintsPending = factory.CreateGauge("meteora_hints_pending", "Hints this node holds for replicas that were down (hinted handoff).");
        _hintsBytesPending = factory.CreateGauge("meteora_hints_bytes_pending", "Bytes of the hints this node holds, as counted against its hint bounds.");
        _hintsStored = factory.CreateCounter("meteora_hints_stored_total", "Hints this node stored durably as a fallback.");
        _hintsDelivered = factory.CreateCounter("meteora_hints_delivered_total", "Hints this node replayed and deleted after the owner's durable ack.");
        _hintsDropped = factory.CreateCounter("meteora_hints_dropped_total", "Hints this node dropped because they were older than the hint window.");
        _hintsRefused = factory.CreateCounter("meteora_hints_refused_total", "Hinted writes this node refused because its hint bounds were full.");
        _hintsObsolete = factory.CreateCounter("meteora_hints_obsolete_total", "Replayed hints this node acked without storing: older than the tombstone grace period for a key it lacks.");
        _hintReplaysRefused = factory.CreateCounter("meteora_hint_replays_refused_total", "Replayed hints this node refused because it was applying its bound of replays at once (the fallback retries).");
        _hintedWrites = factory.CreateCounter("meteora_hinted_writes_total", "Writes this node coordinated that went to a fallback with a hint because a primary was unreachable.");
    }

    /// <summary>Before each scrape: copies the engine's counts.</summary>
    public void Collect()
    {
        NodeCounters c = _counters;
        _writeAcks.IncTo(Volatile.Read(ref c.ReplicaWriteAcks));
        _writeFailures.IncTo(Volatile.Read(ref c.ReplicaWriteFailures));
        _readReplies.IncTo(Volatile.Read(ref c.ReplicaReadReplies));
        _readFailures.IncTo(Volatile.Read(ref c.ReplicaReadFailures));
        _readRepairs.IncTo(Volatile.Read(ref c.ReadRepairsSent));
        _quorumTimeouts.IncTo(Volatile.Read(ref c.QuorumTimeouts));
        _antiEntropyRounds.IncTo(Volatile.Read(ref c.AntiEntropyRounds));
        long done = Volatile.Read(ref c.RepairJobsDone), failed = Volatile.Read(ref c.RepairJobsFailed);
        _jobsDone.IncTo(done);
        _jobsFailed.IncTo(failed);
        _sessionsFailed.IncTo(Volatile.Read(ref c.RepairSessionsFailed));
        _keysRepaired.IncTo(Volatile.Read(ref c.KeysRepaired));
        _repairBytes.IncTo(Volatile.Read(ref c.RepairBytesSent));
        // Clamped: a job that starts or finishes between these reads shows correctly at the next scrape.
        _jobRunning.Set(Math.Clamp(Volatile.Read(ref c.RepairJobsStarted) - done - failed, 0, 1));
        _hintsPending.Set(Volatile.Read(ref c.HintsPending));
        _hintsBytesPending.Set(Volatile.Read(ref c.HintsBytesPending));
        _hintsStored.IncTo(Volatile.Read(ref c.HintsStored));
        _hintsDelivered.IncTo(Volatile.Read(ref c.HintsDelivered));
        _hintsDropped.IncTo(Volatile.Read(ref c.HintsDropped));
        _hintsRefused.IncTo(Volatile.Read(ref c.HintsRefused));
        _hintsObsolete.IncTo(Volatile.Read(ref c.HintsObsolete));
        _hintedWrites.IncTo(Volatile.Read(ref c.HintedWritesSent));
        _hintReplaysRefused.IncTo(Volatile.Read(ref c.HintReplaysRefused));
    }
}
