using System.Runtime.CompilerServices;
using Meteora.Engine.Hashing;
using Meteora.Engine.Membership;
using Meteora.Engine.Merkle;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Replica;

/// <summary>
/// The replica room, the only one that touches <see cref="IStorage"/>: stores versions with LWW,
/// acks a write only once a write covering it is durable, keeps the Merkle trees and the tombstone
/// log equal to what is visible (rolling back with the store when a disk operation fails), and
/// answers reads. Other rooms reach it through messages (client writes, reads, read repairs, repair
/// pushes) or through <see cref="Apply"/>, <see cref="Read"/> and <see cref="PurgeEligible"/>.
/// </summary>
internal sealed class ReplicaStore
{
    private readonly int _nodeId;
    private readonly RingView _ring;
    private readonly IStorage _storage;
    private readonly RepairOptions _repair;
    private readonly VersionClock _versions;
    private readonly VersionOrder _order;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IClock _clock;
    private readonly NodeCounters _counters;
    private readonly IBuggify _buggify;
    private readonly long _buggifyDelayMicros;
    private readonly bool _ackBeforeDurable;
    private readonly int _maxReplaysApplying;
    private int _replaysApplying;
    private readonly InFlightOps _inFlight = new();
    private readonly TreeAudit _audit;
    private long _rebuildSlices;
    private bool _rebuilding;

    /// <summary>Replica reads and writes of one key come in bursts (a quorum's messages, then its repair): hash each key once. Shared with the Merkle trees, which need the same token next.</summary>
    private readonly KeyTokenCache _tokens = new();

    public ReplicaStore(NodeOptions options, RingView ring, IStorage storage, VersionClock versions,
        VersionOrder order, Outbox outbox, IScheduler scheduler, IClock clock, NodeCounters counters, IBuggify buggify)
    {
        _clock = clock;
        _counters = counters;
        _nodeId = options.NodeId;
        _ring = ring;
        _storage = storage;
        _repair = options.Repair;
        _versions = versions;
        _order = order;
        _outbox = outbox;
        _scheduler = scheduler;
        _buggify = buggify;
        _buggifyDelayMicros = TimeUnits.MsToMicros(options.BuggifyDelayMs);
        _ackBeforeDurable = (options.PlantedBugs & PlantedBug.AckBeforeDurable) != 0;
        _maxReplaysApplying = options.Hints.MaxReplaysApplying;
        Tombstones = new TombstoneLog();
        Trees = new ReplicaTrees(ring.PartitionCount, HeldPartitions(ring, storage), options.Repair.MerkleDepth, Tombstones, _tokens);
        _audit = new TreeAudit(storage, Trees, ring.PartitionCount);
    }

    /// <summary>Partitions this node serves in its ring, plus any it still has data of (a drop or handoff a crash interrupted).</summary>
    private static IEnumerable<int> HeldPartitions(RingView ring, IStorage storage)
    {
        var probe = new List<KeyValuePair<string, StoredValue>>(1);
        for (int p = 0; p < ring.PartitionCount; p++)
        {
            probe.Clear();
            if (ring.Serves(p) || storage.Scan(p, TokenRange.All, null, probe, 1) > 0) yield return p;
        }
    }

    /// <summary>Disk operations dropping a partition, by completion token (never more than one per partition).</summary>
    private readonly Dictionary<long, int> _drops = new();

    /// <summary>Partitions being dropped: not tracked, data leaving.</summary>
    public bool Dropping(int partition) => _drops.ContainsValue(partition);

    /// <summary>The ring changed: partitions this node now serves get trees (built from storage by rebuild slices).</summary>
    public void OnRingChanged()
    {
        bool added = false;
        for (int p = 0; p < _ring.PartitionCount; p++)
        {
            if (_ring.Serves(p) && !Dropping(p)) added |= Trees.Track(p);
        }
        if (added && !_rebuilding) ScheduleRebuildSlice();
    }

    /// <summary>
    /// Removes a partition this node no longer serves, once it is handed off and no disk operation of it is
    /// in flight; returns false (and does nothing) otherwise.
    /// </summary>
    public bool TryDrop(int partition)
    {
        if (_ring.Serves(partition)) throw new InvalidOperationException($"partition {partition} is served here; it cannot be dropped");
        if (!Trees.Tracks(partition) || _inFlight.AnyInPartition(partition) || _inFlight.Full) return false;
        Trees.Untrack(partition);
        Tombstones.Forget(partition);
        long token = _inFlight.AddDrop(partition);
        _drops.Add(token, partition);
        _storage.DropPartition(partition, token);
        PartitionsDropped++;
        return true;
    }

    public long PartitionsDropped { get; private set; }

    public ReplicaTrees Trees { get; }

    public TombstoneLog Tombstones { get; }

    /// <summary>Writes refused (nacked or skipped) because too many disk operations were in flight.</summary>
    public long WritesRefused { get; private set; }

    public int InFlightCount => _inFlight.Count;

    /// <summary>No partition's data is held and no disk operation is pending (a departed or abandoned node has handed everything off).</summary>
    public bool HoldsNothing => Trees.Count == 0 && _inFlight.Count == 0;

    /// <summary>Starts rebuilding the Merkle trees from storage, one bounded slice per timer.</summary>
    public void Start() => ScheduleRebuildSlice();

    public void OnRebuildTimer()
    {
        _rebuilding = false;
        if (Trees.RebuildSlice(_storage, _repair.SliceEntries)) ScheduleRebuildSlice();
    }

    private void ScheduleRebuildSlice()
    {
        _rebuilding = true;
        _scheduler.StartTimer(new TimerId(TimerOwner.MerkleRebuild, ++_rebuildSlices), 0);
    }

    public StoredValue? Read(int partition, string key) => _storage.TryGet(partition, key, out StoredValue value) ? value : null;

    /// <summary>The (key, version) entries of some leaves of a partition, for anti-entropy.</summary>
    public Dictionary<int, List<LeafEntry>> EntriesByLeaf(int partition, MerkleTree tree, IEnumerable<int> leaves) =>
        LeafDiff.EntriesByLeaf(_storage, partition, tree, leaves);

    public void OnReplicaRead(int fromNode, ReplicaRead read)
    {
        int partition = PartitionOf(read.Key);
        if (!_ring.Serves(partition))
        {
            _outbox.Send(fromNode, new ReplicaRefused(read.RequestId, _ring.Version)); // never "not found" for data that moved
            return;
        }
        StoredValue? held = Read(partition, read.Key);
        Message reply = held is null
            ? new ReplicaReadReply(read.RequestId, false, WriteVersion.Zero, null)
            : new ReplicaReadReply(read.RequestId, true, held.Version, held.Value);
        if (_buggify.Fires(BuggifySite.DelayReadReply)) _outbox.SendLater(fromNode, reply, _buggifyDelayMicros);
        else _outbox.Send(fromNode, reply);
    }

    public void OnReplicaWrite(int fromNode, ReplicaWrite write) =>
        Apply(PartitionOf(write.Key), write.Key, new StoredValue(write.Version, write.Value), new AckTo(fromNode, AckKind.ClientWrite, write.RequestId));

    public void OnReadRepair(ReadRepair repair) =>
        Apply(PartitionOf(repair.Key), repair.Key, new StoredValue(repair.Version, repair.Value), ackTo: null);

    /// <summary>
    /// A fallback replays a hint. A hint older than the tombstone grace period for a key this replica does
    /// not hold is acked without being stored: a tombstone newer than it may have been purged here (it is
    /// older than the grace period too), and storing the hint would resurrect the key (Cassandra bounds
    /// hints by gc_grace for the same reason). A key that is held is safe: LWW keeps whatever is newer.
    /// </summary>
    public void OnHintReplay(int fromNode, HintReplay replay)
    {
        int partition = PartitionOf(replay.Key);
        var ack = new AckTo(fromNode, AckKind.HintReplay, replay.RequestId);
        if (_replaysApplying >= _maxReplaysApplying)
        {
            _counters.HintReplaysRefused++; // a recovering node takes on a bounded amount of replay, however many fallbacks send
            SendAck(ack, durable: false);
            return;
        }
        if (_ring.Serves(partition) && !Dropping(partition) && replay.Version.TimestampMicros < _repair.PurgeCutoffMicros(_clock.NowMicros)
            && Read(partition, replay.Key) is null)
        {
            _versions.Observe(replay.Version);
            _counters.HintsObsolete++;
            SendAck(ack, durable: true);
            return;
        }
        Apply(partition, replay.Key, new StoredValue(replay.Version, replay.Value), ack);
    }

    public void OnRepairPush(int fromNode, RepairPush push) =>
        Apply(PartitionOf(push.Key), push.Key, new StoredValue(push.Version, push.Value), new AckTo(fromNode, AckKind.RepairPush, push.RequestId));

    /// <summary>
    /// Stores the version if it is newer; when <paramref name="ackTo"/> is set, acks only once a write
    /// covering it is durable. A stale write is covered by the newer value held, but that value may
    /// not be durable yet and its write may still fail and roll back: re-persisting it and acking on
    /// that write's durability is the only ack that cannot outrun the disk (simulator seed 16).
    /// </summary>
    public void Apply(int partition, string key, StoredValue incoming, AckTo? ackTo)
    {
        _versions.Observe(incoming.Version);
        if (!_ring.Serves(partition) || Dropping(partition))
        {
            // Not a replica here (any more, or yet): a coordinator with an older ring gets a nack, never an ack.
            WritesNotServed++;
            if (ackTo is { } notServed) SendAck(notServed, durable: false);
            return;
        }
        StoredValue? current = Read(partition, key);
        bool newer = current is null || _order.Newer(incoming, current);
        if (!newer && ackTo is null) return;
        if (_inFlight.Full)
        {
            WritesRefused++; // anti-entropy brings an unacked repair back; an acked write is nacked
            if (ackTo is { } refused) SendAck(refused, durable: false);
            return;
        }
        if (ackTo is { } early && _ackBeforeDurable)
        {
            SendAck(early, durable: true); // planted bug ack-before-durable
            ackTo = null;
        }
        StoredValue stored = newer ? incoming : current!;
        if (newer) Trees.OnVisibleChange(partition, key, current?.Version, incoming);
        long token = _inFlight.Add(new StorageOp(partition, key, stored.Version, ackTo), counted: stored.Version);
        if (ackTo is { Kind: AckKind.HintReplay }) _replaysApplying++;
        _storage.Write(partition, key, stored, token);
    }

    /// <summary>
    /// Purges up to SliceEntries tombstones that are past <paramref name="cutoffMicros"/> and known to
    /// be on every replica (see <see cref="TombstoneLog"/>); returns how many; <paramref name="more"/>:
    /// the slice was full, so more may be waiting.
    /// </summary>
    public int PurgeEligible(long cutoffMicros, out bool more)
    {
        int purged = 0;
        foreach (var (partition, key, version) in Tombstones.TakeEligible(cutoffMicros, _repair.SliceEntries, out more))
        {
            if (TryPurge(partition, key, version)) purged++;
        }
        return purged;
    }

    /// <summary>Physically removes the tombstone if the key still holds exactly it; false if not (or refused while full).</summary>
    internal bool TryPurge(int partition, string key, WriteVersion tombstone)
    {
        StoredValue? held = Read(partition, key);
        if (held is null || !held.IsTombstone || held.Version != tombstone) return false;
        if (_inFlight.Full)
        {
            WritesRefused++; // stays on disk; a restart's rebuild logs it again
            return false;
        }
        Trees.OnVisibleChange(partition, key, tombstone, after: null);
        long token = _inFlight.Add(new StorageOp(partition, key, tombstone, Waiter: null), counted: null);
        _storage.Purge(partition, key, tombstone, token);
        return true;
    }

    /// <summary>Writes nacked or skipped because this node does not serve the key's partition.</summary>
    public long WritesNotServed { get; private set; }

    /// <summary>A disk operation completed (durable) or failed and was rolled back by the store.</summary>
    public void OnCompleted(long token, bool durable)
    {
        if (_drops.Remove(token, out int dropped))
        {
            if (!_inFlight.TryCompleteDrop(token)) throw new InvalidOperationException($"drop {token} is not in flight");
            // A failed drop left the data visible: track it again, so it is handed off and dropped once more.
            if (!durable && Trees.Track(dropped) && !_rebuilding) ScheduleRebuildSlice();
            return;
        }
        if (!_inFlight.TryComplete(token, out StorageOp op, out WriteVersion? counted))
        {
            throw new InvalidOperationException($"storage completed token {token}, which is not in flight");
        }
        if (!durable)
        {
            StoredValue? now = Read(op.Partition, op.Key);
            Trees.OnVisibleChange(op.Partition, op.Key, counted, now);
            _inFlight.Recount(op.Key, now?.Version);
        }
        if (op.Waiter is { Kind: AckKind.HintReplay }) _replaysApplying--;
        if (op.Waiter is { } waiter) SendAck(waiter, durable);
    }

    private void SendAck(AckTo to, bool durable)
    {
        if (to.Kind == AckKind.RepairPush)
        {
            _outbox.Send(to.Node, new RepairPushAck(to.RequestId, durable));
            return;
        }
        if (to.Kind == AckKind.HintReplay)
        {
            _outbox.Send(to.Node, new HintReplayAck(to.RequestId, durable));
            return;
        }
        var ack = new ReplicaWriteAck(to.RequestId, durable);
        if (_buggify.Fires(BuggifySite.DelayWriteAck)) _outbox.SendLater(to.Node, ack, _buggifyDelayMicros);
        else _outbox.Send(to.Node, ack);
    }

    private int PartitionOf(string key) => _tokens.Of(key).Partition(_ring.PartitionCount);

    /// <summary>
    /// In-flight bookkeeping adds up; with <paramref name="deep"/>, also recomputes one partition's tree
    /// from storage (round robin) and compares it with the incrementally kept one.
    /// </summary>
    /// <summary>Runs after every event: walks and messages live in other methods, so this frame stays small (issue 11).</summary>
    public void CheckInvariants(bool deep)
    {
        _inFlight.CheckInvariants(deep);
        if (_replaysApplying < 0 || _replaysApplying > _maxReplaysApplying) ThrowReplays(_replaysApplying, _maxReplaysApplying);
        if (_drops.Count > _ring.PartitionCount) ThrowDrops(_drops.Count);
        if (_drops.Count > 0) CheckDroppedHaveNoTrees(); // usually none: no enumerator then
        if (deep) _audit.CheckNext(_inFlight);

        static void ThrowReplays(int applying, int bound) => throw new InvalidOperationException($"{applying} hint replays being applied, bound {bound}");
        static void ThrowDrops(int drops) => throw new InvalidOperationException($"{drops} partition drops in flight");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDroppedHaveNoTrees()
    {
        foreach (int p in _drops.Values)
        {
            if (Trees.Tracks(p)) throw new InvalidOperationException($"partition {p} is being dropped but still has a tree");
        }
    }
}
