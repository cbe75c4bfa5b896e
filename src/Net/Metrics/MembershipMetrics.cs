using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Net.Hosting;
using Meteora.Net.Membership;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// Membership and partition streaming: the adopted ring (version, members, change in progress and its
/// pending transfers), what this node holds and streams. Copied at scrape time from the runtime's ring,
/// the engine's counters and the membership watcher's last poll, so a scrape never waits for the loop.
/// </summary>
public sealed class MembershipMetrics
{
    private readonly NodeCounters _counters;
    private readonly Gauge _ringVersion;
    private readonly Gauge _members;
    private readonly Gauge _changeInProgress;
    private readonly Gauge _pendingTransfers;
    private readonly Gauge _partitionsHeld;
    private readonly Gauge _streamingSessions;
    private readonly Counter _streamBytes;
    private readonly Counter _streamKeys;
    private readonly Counter _transfersVerified;
    private readonly Counter _writesNotServed;
    private readonly Counter _partitionsDropped;
    private NodeRuntime? _runtime;

    public MembershipMetrics(IMetricFactory factory, NodeCounters counters)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        _ringVersion = factory.CreateGauge("meteora_ring_version", "Version of the ring state this node holds (0 while a joining node has none).");
        _members = factory.CreateGauge("meteora_ring_members", "Members of the ring this node holds, by status (joining, normal, leaving).", ["status"]);
        _changeInProgress = factory.CreateGauge("meteora_ring_change_in_progress", "1 while the ring this node holds has a join, leave or remove in progress, else 0.");
        _pendingTransfers = factory.CreateGauge("meteora_ring_pending_transfers", "Partition transfers the running ring change still waits for.");
        _partitionsHeld = factory.CreateGauge("meteora_partitions_held", "Partitions this node holds data for (replica now, receiving, or handing off).");
        _streamingSessions = factory.CreateGauge("meteora_streaming_sessions", "Transfer and handoff sessions of ring changes running on this node.");
        _streamBytes = factory.CreateCounter("meteora_stream_received_bytes_total", "Bytes of entries this node pulled in partition transfers and handoffs.");
        _streamKeys = factory.CreateCounter("meteora_stream_received_keys_total", "Entries this node pulled in partition transfers.");
        _transfersVerified = factory.CreateCounter("meteora_transfers_verified_total", "Partitions this node verified it holds for a ring change and reported to the claimant.");
        _writesNotServed = factory.CreateCounter("meteora_writes_not_served_total", "Replica writes refused because this node does not serve the key's partition (a coordinator with an older ring).");
        _partitionsDropped = factory.CreateCounter("meteora_partitions_dropped_total", "Partitions whose data this node dropped after handing them off.");
    }

    /// <summary>The runtime exists after the metrics (it owns them); until then only the engine counters are copied.</summary>
    public void Attach(NodeRuntime runtime) => _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));

    public void Collect()
    {
        NodeCounters c = _counters;
        _streamBytes.IncTo(Volatile.Read(ref c.StreamBytesReceived));
        _streamKeys.IncTo(Volatile.Read(ref c.StreamKeysReceived));
        _transfersVerified.IncTo(Volatile.Read(ref c.TransfersVerified));
        if (_runtime is not { } runtime) return;
        RingState? ring = runtime.Ring;
        _ringVersion.Set(ring?.Version ?? 0);
        foreach (MemberStatus status in Enum.GetValues<MemberStatus>())
        {
            _members.WithLabels(status.ToString().ToLowerInvariant()).Set(ring?.Members.Count(m => m.Status == status) ?? 0);
        }
        _changeInProgress.Set(ring?.Change is null ? 0 : 1);
        _pendingTransfers.Set(ring?.PendingTransfers().Count ?? 0);
        if (runtime.Watcher.Latest is not { } figures) return;
        _partitionsHeld.Set(figures.PartitionsHeld);
        _streamingSessions.Set(figures.StreamingSessions);
        _writesNotServed.IncTo(figures.WritesNotServed);
        _partitionsDropped.IncTo(figures.PartitionsDropped);
    }
}
