using System.Runtime.CompilerServices;
using Meteora.Engine.Hashing;
using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Handoff;

/// <summary>
/// The hinted-handoff room (Dynamo section 4.6). As a fallback it keeps, durably and within bounds, the
/// writes coordinators could not deliver to a down primary, acking each only once its hint is durable;
/// it answers sloppy reads from them; and once the failure detector hears from the target again it
/// replays them in order, throttled and with a bounded number of bytes in flight per target, deleting
/// each only after the owner's durable ack. Hints older than the window are dropped and counted
/// (Cassandra's max_hint_window); anti-entropy covers what they carried whenever another replica has it.
/// </summary>
internal sealed class HintedHandoff
{
    /// <summary>Completion tokens of hint writes and deletes carry this bit, so the node can route them here.</summary>
    public const long TokenBit = 1L << 62;

    /// <summary>Hint writes and deletes submitted and not completed yet; beyond it hinted writes are refused.</summary>
    public const int MaxInFlightDiskOps = 100_000;

    private readonly int _self;
    private readonly HintOptions _options;
    private readonly RingView _ring;
    private readonly IStorage _storage;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IClock _clock;
    private readonly FailureDetector _detector;
    private readonly bool _deleteOnSend;
    private readonly HintLog _log = new();
    private readonly Dictionary<long, (HintEntry Entry, AckTo Ack)> _writing = new();
    private readonly Dictionary<long, HintEntry> _deleting = new();
    private readonly Dictionary<long, Replay> _replays = new();
    private readonly Dictionary<int, long> _inFlightBytes = new();
    private readonly SortedDictionary<int, HintTargetStats> _targets = new();
    private readonly ReplayThrottle _throttle;
    private long _nextSequence;
    private long _nextToken;
    private long _nextReplay;
    private long _ticks;
    private long _redirectTurn;

    private readonly record struct AckTo(int Node, long RequestId);

    private readonly record struct Replay(HintEntry Entry, int Destination, long SentMicros);

    private readonly NodeCounters _counters;

    public HintedHandoff(NodeOptions options, RingView ring, IStorage storage, Outbox outbox, IScheduler scheduler, IClock clock, FailureDetector detector,
        NodeCounters counters)
    {
        _counters = counters;
        _self = options.NodeId;
        _options = options.Hints;
        _ring = ring;
        _storage = storage;
        _outbox = outbox;
        _scheduler = scheduler;
        _clock = clock;
        _detector = detector;
        _deleteOnSend = (options.PlantedBugs & PlantedBug.HintDeletedBeforeAck) != 0;
        _throttle = new ReplayThrottle(_options.ReplayBytesPerSecond);
        Load();
        PublishHeld();
    }

    /// <summary>Copies what is held now into the node's counters (the totals are counted there directly), which metrics scrapes read from other threads.</summary>
    private void PublishHeld()
    {
        _counters.HintsPending = _log.Count;
        _counters.HintsBytesPending = _log.Bytes;
    }

    /// <summary>A restart reloads every hint the store kept; sequences continue after the highest.</summary>
    private void Load()
    {
        var hints = new List<Hint>();
        _storage.ReadHints(hints);
        foreach (Hint hint in hints)
        {
            _log.Add(new HintEntry(hint, durable: true));
            _nextSequence = Math.Max(_nextSequence, hint.Sequence);
        }
    }

    /// <summary>Hints held now.</summary>
    public int Pending => _log.Count;

    /// <summary>No hint is held and no hint write or delete waits for the disk: a node that left may exit (its deletes are durable).</summary>
    public bool HoldsNothing => _log.Count == 0 && _writing.Count == 0 && _deleting.Count == 0;

    public static bool OwnsToken(long token) => (token & TokenBit) != 0;

    public void Start() => ScheduleTick();

    /// <summary>A coordinator asks this node to keep a write for <see cref="HintedWrite.Target"/>.</summary>
    public void OnHintedWrite(int fromNode, HintedWrite write)
    {
        var hint = new Hint(write.Target, _nextSequence + 1, write.Key, write.Version, write.Value, _clock.NowMicros);
        if (!MayKeep(hint))
        {
            _counters.HintsRefused++;
            _outbox.Send(fromNode, new ReplicaWriteAck(write.RequestId, false));
            return;
        }
        _nextSequence++;
        var entry = new HintEntry(hint, durable: false);
        _log.Add(entry);
        long token = NextToken();
        _writing.Add(token, (entry, new AckTo(fromNode, write.RequestId)));
        _storage.WriteHint(hint, token);
        PublishHeld();
    }

    /// <summary>
    /// Whether this node can keep <paramref name="hint"/>: never for itself, only with a store that keeps
    /// hints, only as a ring member (a node outside the ring may be about to exit; it still replays what it
    /// holds), and within the per-target, total and disk-operation bounds.
    /// </summary>
    private bool MayKeep(Hint hint) =>
        hint.Target != _self && _storage.SupportsHints && _ring.IsMember
        && _log.BytesFor(hint.Target) + hint.SizeBytes <= _options.MaxBytesPerTarget
        && _log.Bytes + hint.SizeBytes <= _options.MaxBytesTotal
        && _writing.Count + _deleting.Count < MaxInFlightDiskOps;

    /// <summary>A sloppy read: the newest hint this node holds for the key, or not found.</summary>
    public void OnHintedRead(int fromNode, HintedRead read)
    {
        Hint? hint = _log.NewestFor(read.Key);
        _outbox.Send(fromNode, hint is null
            ? new ReplicaReadReply(read.RequestId, false, WriteVersion.Zero, null)
            : new ReplicaReadReply(read.RequestId, true, hint.Version, hint.Value));
    }

    public void OnCompleted(long token, bool durable)
    {
        if (_writing.Remove(token, out var written))
        {
            if (durable)
            {
                written.Entry.Durable = true;
                _counters.HintsStored++;
                Count(written.Entry.Hint.Target, stored: 1);
            }
            else
            {
                _log.Remove(written.Entry); // never acked, so nothing was promised
            }
            _outbox.Send(written.Ack.Node, new ReplicaWriteAck(written.Ack.RequestId, durable));
            PublishHeld();
            return;
        }
        if (!_deleting.Remove(token, out HintEntry? deleted)) throw new InvalidOperationException($"hint token {token} is not in flight");
        // A failed delete left the hint on disk: hold it again, it replays once more (replays are idempotent).
        if (!durable) _log.Add(deleted);
        PublishHeld();
    }

    public void OnTimer()
    {
        _ticks++;
        long now = _clock.NowMicros;
        ExpireReplays(now);
        DropExpired(now);
        ReplayReady(now);
        ScheduleTick();
        PublishHeld();
    }

    /// <summary>Hints older than the window are dropped and counted, oldest first (sequence order is storage order).</summary>
    private void DropExpired(long now)
    {
        long windowMicros = TimeUnits.MsToMicros(_options.WindowMs);
        List<HintEntry>? expired = null;
        foreach (int target in _log.Targets)
        {
            foreach (HintEntry entry in _log.Queue(target))
            {
                if (now - entry.Hint.StoredAtMicros < windowMicros) break;
                if (entry.Durable && entry.ReplayRequest == 0) (expired ??= []).Add(entry);
            }
        }
        if (expired is null) return;
        foreach (HintEntry entry in expired)
        {
            _counters.HintsDropped++;
            Count(entry.Hint.Target, dropped: 1);
            Delete(entry);
        }
    }

    /// <summary>Replays not acked within the timeout are forgotten; their hints go out again.</summary>
    private void ExpireReplays(long now)
    {
        long timeoutMicros = TimeUnits.MsToMicros(_options.ReplayTimeoutMs);
        List<long>? late = null;
        foreach (var (id, replay) in _replays)
        {
            if (now - replay.SentMicros >= timeoutMicros) (late ??= []).Add(id);
        }
        if (late is null) return;
        foreach (long id in late) Abandon(id);
    }

    private void ReplayReady(long now)
    {
        _throttle.Refill(now);
        List<HintEntry>? sentAndDeleted = null;
        foreach (int target in _log.Targets)
        {
            if (!_throttle.CanSend) break;
            ReplayTo(target, now, ref sentAndDeleted);
        }
        if (sentAndDeleted is null) return;
        // Planted bug hint-deleted-before-ack, after the walk (deleting during it would change the collections walked).
        foreach (HintEntry entry in sentAndDeleted)
        {
            if (_replays.Remove(entry.ReplayRequest, out Replay replay)) ReleaseInFlight(replay);
            entry.ReplayRequest = 0;
            Delete(entry);
        }
    }

    /// <summary>Sends the target's hints in order, until its in-flight bytes or the throttle say stop, or one cannot go yet.</summary>
    private void ReplayTo(int target, long now, ref List<HintEntry>? sentAndDeleted)
    {
        foreach (HintEntry entry in _log.Queue(target))
        {
            if (entry.ReplayRequest != 0) continue;
            if (!entry.Durable || !_throttle.CanSend || _inFlightBytes.GetValueOrDefault(target) >= _options.MaxInFlightBytesPerTarget) return;
            int destination = Destination(entry.Hint);
            if (destination < 0) return; // in order: later hints wait for this one
            long id = ++_nextReplay;
            entry.ReplayRequest = id;
            _replays.Add(id, new Replay(entry, destination, now));
            _inFlightBytes[target] = _inFlightBytes.GetValueOrDefault(target) + entry.Hint.SizeBytes;
            _throttle.Spend(entry.Hint.SizeBytes);
            Hint hint = entry.Hint;
            _outbox.Send(destination, new HintReplay(id, hint.Key, hint.Version, hint.Value));
            if (_deleteOnSend) (sentAndDeleted ??= []).Add(entry); // planted bug hint-deleted-before-ack
        }
    }

    /// <summary>
    /// Where a hint goes now: its target while the target still replicates the key and is heard from;
    /// when a ring change moved the key away from the target (or this node left the ring), the first
    /// current replica that is up, which anti-entropy then spreads it from. -1: nowhere yet.
    /// </summary>
    private int Destination(Hint hint)
    {
        if (_ring.State is null) return -1;
        int partition = Token.OfKey(hint.Key).Partition(_ring.PartitionCount);
        ReplicaPlacement placement = _ring.Current;
        bool targetReplicates = placement.IsReplica(partition, hint.Target) || Array.IndexOf(_ring.PendingReplicas(partition), hint.Target) >= 0;
        if (targetReplicates && Up(hint.Target)) return hint.Target;
        if (targetReplicates && _ring.IsMember) return -1;
        int[] replicas = placement.PreferenceArray(partition);
        if (!_ring.IsMember)
        {
            // A node that left hears no heartbeats any more: it tries the replicas in turn, moving on after each failed replay.
            for (int i = 0; i < replicas.Length; i++)
            {
                int replica = replicas[(int)((_redirectTurn + i) % replicas.Length)];
                if (replica != hint.Target || replicas.Length == 1) return replica;
            }
            return -1;
        }
        foreach (int replica in replicas)
        {
            if (replica != hint.Target && Up(replica)) return replica;
        }
        return -1;
    }

    private bool Up(int node) => node == _self || (_detector.HasHeard(node) && !_detector.IsDown(node));

    public void OnReplayAck(int fromNode, HintReplayAck ack)
    {
        if (!_replays.TryGetValue(ack.RequestId, out Replay replay) || replay.Destination != fromNode) return;
        if (!ack.Ok)
        {
            Abandon(ack.RequestId); // refused (disk busy, or its ring is older): again at a later tick
            return;
        }
        _replays.Remove(ack.RequestId);
        ReleaseInFlight(replay);
        replay.Entry.ReplayRequest = 0;
        _counters.HintsDelivered++;
        Count(replay.Entry.Hint.Target, delivered: 1);
        Delete(replay.Entry);
        PublishHeld();
    }

    /// <summary>The transport could not deliver a replay: its hint goes out again later.</summary>
    public void OnSendFailed(Message message)
    {
        if (message is HintReplay replay) Abandon(replay.RequestId);
    }

    private void Abandon(long id)
    {
        if (!_replays.Remove(id, out Replay replay)) return;
        _redirectTurn++;
        ReleaseInFlight(replay);
        replay.Entry.ReplayRequest = 0;
    }

    private void ReleaseInFlight(Replay replay)
    {
        int target = replay.Entry.Hint.Target;
        long left = _inFlightBytes.GetValueOrDefault(target) - replay.Entry.Hint.SizeBytes;
        if (left <= 0) _inFlightBytes.Remove(target);
        else _inFlightBytes[target] = left;
    }

    /// <summary>Removes the hint from memory at once and from disk through a delete that completes like a write.</summary>
    private void Delete(HintEntry entry)
    {
        _log.Remove(entry);
        long token = NextToken();
        _deleting.Add(token, entry);
        _storage.DeleteHint(entry.Hint.Target, entry.Hint.Sequence, token);
    }

    private long NextToken() => TokenBit | ++_nextToken;

    private void ScheduleTick() =>
        _scheduler.StartTimer(new TimerId(TimerOwner.Handoff, _ticks), TimeUnits.MsToMicros(_options.TickMs));

    private void Count(int target, long stored = 0, long delivered = 0, long dropped = 0)
    {
        HintTargetStats s = _targets.GetValueOrDefault(target, new HintTargetStats(target, 0, 0, 0, 0, 0));
        _targets[target] = s with { Stored = s.Stored + stored, Delivered = s.Delivered + delivered, Dropped = s.Dropped + dropped };
    }

    public HintStats Stats()
    {
        var perTarget = new List<HintTargetStats>();
        var targets = new SortedSet<int>(_targets.Keys);
        targets.UnionWith(_log.Targets);
        foreach (int target in targets)
        {
            HintTargetStats s = _targets.GetValueOrDefault(target, new HintTargetStats(target, 0, 0, 0, 0, 0));
            perTarget.Add(s with { Pending = _log.CountFor(target), BytesPending = _log.BytesFor(target) });
        }
        return new HintStats(_log.Count, _log.Bytes, _counters.HintsStored, _counters.HintsDelivered, _counters.HintsDropped, _counters.HintsRefused, perTarget);
    }

    /// <summary>
    /// Runs after every event: the cheap bounds inline, walks and messages in other methods, whose locals
    /// (enumerators, string builders) made this frame cost ~80 instructions per call (issue 11, callgrind).
    /// </summary>
    public void CheckInvariants(bool deep)
    {
        if (_writing.Count + _deleting.Count > MaxInFlightDiskOps) ThrowDiskOps(_writing.Count + _deleting.Count);
        if (_log.Bytes > _options.MaxBytesTotal) ThrowBytes(_log.Bytes, _options.MaxBytesTotal);
        // The map is usually empty: no enumerator then (issue 11).
        if (_inFlightBytes.Count > 0) CheckInFlightBytes();
        if (deep) CheckDeep();

        static void ThrowDiskOps(int ops) => throw new InvalidOperationException($"{ops} hint disk operations in flight");
        static void ThrowBytes(long bytes, long max) => throw new InvalidOperationException($"{bytes} hint bytes exceed {max}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckInFlightBytes()
    {
        foreach (var (target, bytes) in _inFlightBytes)
        {
            // One hint may overshoot the bound (it was below when the hint went out).
            if (bytes > _options.MaxInFlightBytesPerTarget + Hint.MaxSizeBytes) throw new InvalidOperationException($"target {target}: {bytes} hint bytes in flight");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDeep()
    {
        _log.CheckInvariants(_options.MaxBytesPerTarget, _options.MaxBytesTotal);
        foreach (var (id, replay) in _replays)
        {
            if (replay.Entry.ReplayRequest != id) throw new InvalidOperationException($"replay {id} is not its hint's replay");
        }
    }
}
