using Meteora.Engine.Hashing;
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
    private readonly ReplicaPlacement _placement;
    private readonly IStorage _storage;
    private readonly RepairOptions _repair;
    private readonly VersionClock _versions;
    private readonly VersionOrder _order;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IBuggify _buggify;
    private readonly long _buggifyDelayMicros;
    private readonly bool _ackBeforeDurable;
    private readonly InFlightOps _inFlight = new();
    private readonly TreeAudit _audit;
    private long _rebuildSlices;

    public ReplicaStore(NodeOptions options, ReplicaPlacement placement, IStorage storage, VersionClock versions,
        VersionOrder order, Outbox outbox, IScheduler scheduler, IBuggify buggify)
    {
        _nodeId = options.NodeId;
        _placement = placement;
        _storage = storage;
        _repair = options.Repair;
        _versions = versions;
        _order = order;
        _outbox = outbox;
        _scheduler = scheduler;
        _buggify = buggify;
        _buggifyDelayMicros = TimeUnits.MsToMicros(options.BuggifyDelayMs);
        _ackBeforeDurable = (options.PlantedBugs & PlantedBug.AckBeforeDurable) != 0;
        Tombstones = new TombstoneLog();
        Trees = new ReplicaTrees(placement, _nodeId, options.Repair.MerkleDepth, Tombstones);
        _audit = new TreeAudit(storage, Trees, placement.PartitionCount);
    }

    public ReplicaTrees Trees { get; }

    public TombstoneLog Tombstones { get; }

    /// <summary>Writes refused (nacked or skipped) because too many disk operations were in flight.</summary>
    public long WritesRefused { get; private set; }

    public int InFlightCount => _inFlight.Count;

    /// <summary>Starts rebuilding the Merkle trees from storage, one bounded slice per timer.</summary>
    public void Start() => ScheduleRebuildSlice();

    public void OnRebuildTimer()
    {
        if (Trees.RebuildSlice(_storage, _repair.SliceEntries)) ScheduleRebuildSlice();
    }

    private void ScheduleRebuildSlice() => _scheduler.StartTimer(new TimerId(TimerOwner.MerkleRebuild, ++_rebuildSlices), 0);

    public StoredValue? Read(int partition, string key) => _storage.TryGet(partition, key, out StoredValue value) ? value : null;

    /// <summary>The (key, version) entries of some leaves of a partition, for anti-entropy.</summary>
    public Dictionary<int, List<LeafEntry>> EntriesByLeaf(int partition, MerkleTree tree, IEnumerable<int> leaves) =>
        LeafDiff.EntriesByLeaf(_storage, partition, tree, leaves);

    public void OnReplicaRead(int fromNode, ReplicaRead read)
    {
        StoredValue? held = Read(PartitionOf(read.Key), read.Key);
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

    /// <summary>A disk operation completed (durable) or failed and was rolled back by the store.</summary>
    public void OnCompleted(long token, bool durable)
    {
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
        if (op.Waiter is { } waiter) SendAck(waiter, durable);
    }

    private void SendAck(AckTo to, bool durable)
    {
        if (to.Kind == AckKind.RepairPush)
        {
            _outbox.Send(to.Node, new RepairPushAck(to.RequestId, durable));
            return;
        }
        var ack = new ReplicaWriteAck(to.RequestId, durable);
        if (_buggify.Fires(BuggifySite.DelayWriteAck)) _outbox.SendLater(to.Node, ack, _buggifyDelayMicros);
        else _outbox.Send(to.Node, ack);
    }

    private int PartitionOf(string key) => Token.OfKey(key).Partition(_placement.PartitionCount);

    /// <summary>
    /// In-flight bookkeeping adds up; with <paramref name="deep"/>, also recomputes one partition's tree
    /// from storage (round robin) and compares it with the incrementally kept one.
    /// </summary>
    public void CheckInvariants(bool deep)
    {
        _inFlight.CheckInvariants(deep);
        if (deep) _audit.CheckNext(_inFlight);
    }
}
