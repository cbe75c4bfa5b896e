using Meteora.Engine.Hashing;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Node;

/// <summary>
/// One Meteora node as a deterministic state machine. Every input is a method call made by the host
/// on the node's single event loop (client request, peer message, timer, storage completion); every
/// output goes through the injected interfaces. The node is both a replica (stores versions with
/// LWW, acks only once durable) and a coordinator (Dynamo section 4.5: sends to the N replicas of the
/// key's preference list, answers after R/W replies, read-repairs stale replicas).
/// </summary>
public sealed class MeteoraNode : IRepairHost
{
    private readonly NodeOptions _options;
    private readonly ReplicaPlacement _placement;
    private readonly IScheduler _scheduler;
    private readonly ITransport _transport;
    private readonly IStorage _storage;
    private readonly IClientResponder _responder;
    private readonly IBuggify _buggify;
    private readonly IClock _clock;
    private readonly AntiEntropy _antiEntropy;
    private readonly Dictionary<long, StorageOp> _storageOps = new();
    private readonly Dictionary<string, (WriteVersion? Counted, int Pending)> _keysInFlight = new(StringComparer.Ordinal);
    private readonly VersionClock _versions;
    private readonly Dictionary<long, PendingRequest> _pending = new();
    private readonly Dictionary<long, WriteWaiter> _writeWaiters = new();
    private readonly Dictionary<long, (int To, Message Message)> _delayedSends = new();
    private long _nextRequestId;
    private long _nextStorageToken;
    private long _nextDelayTimerId;

    public MeteoraNode(
        NodeOptions options,
        ReplicaPlacement placement,
        IClock clock,
        IScheduler scheduler,
        ITransport transport,
        IStorage storage,
        IRandom random,
        IClientResponder responder,
        IBuggify? buggify = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _placement = placement ?? throw new ArgumentNullException(nameof(placement));
        if (!placement.Layout.Contains(options.NodeId))
        {
            throw new ArgumentException($"node {options.NodeId} is not a member of the ring", nameof(placement));
        }
        if (placement.ReplicationFactor != options.ReplicationFactor)
        {
            throw new ArgumentException($"placement uses N={placement.ReplicationFactor} but options say N={options.ReplicationFactor}", nameof(placement));
        }
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _storage = storage ?? throw new ArgumentNullException(nameof(storage));
        ArgumentNullException.ThrowIfNull(random);
        _responder = responder ?? throw new ArgumentNullException(nameof(responder));
        _buggify = buggify ?? NoBuggify.Instance;
        _versions = new VersionClock(clock, (uint)options.NodeId);
        // Request ids start at a random point so replies meant for an earlier incarnation of this
        // node (before a crash) cannot be mistaken for replies to new requests.
        _nextRequestId = (long)(random.NextUInt64() >> 2) + 1;
        _antiEntropy = new AntiEntropy(this, options.Repair, random);
        _antiEntropy.Start();
    }

    public int NodeId => _options.NodeId;

    public ReplicaPlacement Placement => _placement;

    /// <summary>Coordinator requests still waiting for replicas or their timeout.</summary>
    public int PendingRequestCount => _pending.Count;

    public int DefaultReadConsistency => _options.DefaultReadConsistency ?? Majority;

    public int DefaultWriteConsistency => _options.DefaultWriteConsistency ?? Majority;

    /// <summary>Starts a repair job over every partition this node replicates; refused (with the running job's id) while one runs.</summary>
    public (bool Started, string RepairId) StartRepair() => _antiEntropy.StartJob();

    public RepairStatus? RepairStatus(string repairId) => _antiEntropy.Status(repairId);

    /// <summary>The repair job running now, if any.</summary>
    public RepairStatus? RunningRepair => _antiEntropy.RunningStatus;

    /// <summary>Root hash of this node's Merkle tree for the partition (null if not a replica or not built yet).</summary>
    public UInt128? MerkleRoot(int partition) => _antiEntropy.Trees.Ready(partition)?.Root;

    public long TombstonesPurged => _antiEntropy.TombstonesPurged;

    private int Majority => Math.Min(_placement.EffectiveReplicas, _options.ReplicationFactor / 2 + 1);

    // ---------------------------------------------------------------- coordinator

    public void OnClientRequest(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? error = RequestValidation.CheckKey(request.Key);
        if (error is null && request.Operation == ClientOperation.Set) error = RequestValidation.CheckValue(request.Value);
        if (error is null && request.Operation is not (ClientOperation.Get or ClientOperation.Set or ClientOperation.Delete))
        {
            error = $"unknown operation {request.Operation}";
        }
        int required = request.Consistency
            ?? (request.Operation == ClientOperation.Get ? DefaultReadConsistency : DefaultWriteConsistency);
        error ??= RequestValidation.CheckConsistency(required, _placement.EffectiveReplicas, request.Operation);
        if (error is not null)
        {
            Respond(request, ClientStatus.InvalidRequest, null, WriteVersion.Zero, 0, required, error);
            return;
        }
        if (_pending.Count >= Limits.MaxPendingRequests)
        {
            Respond(request, ClientStatus.Unavailable, null, WriteVersion.Zero, 0, required,
                $"coordinator has {Limits.MaxPendingRequests} requests in flight; retry later");
            return;
        }

        int partition = Token.OfKey(request.Key).Partition(_placement.PartitionCount);
        int[] replicas = _placement.PreferenceArray(partition); // shared, read-only
        long requestId = _nextRequestId++;
        if (request.Operation == ClientOperation.Get)
        {
            var read = new PendingRead(requestId, request, replicas, required);
            _pending.Add(requestId, read);
            _scheduler.StartTimer(requestId, RequestTimeoutMs());
            SendToReplicas(replicas, new ReplicaRead(requestId, request.Key));
            if (Array.IndexOf(replicas, NodeId) >= 0)
            {
                OnReadReply(NodeId, requestId, ReadLocal(partition, request.Key));
            }
        }
        else
        {
            var written = new StoredValue(_versions.Next(), request.Operation == ClientOperation.Set ? request.Value : null);
            var write = new PendingWrite(requestId, request, replicas, required, written);
            _pending.Add(requestId, write);
            _scheduler.StartTimer(requestId, RequestTimeoutMs());
            var message = new ReplicaWrite(requestId, request.Key, written.Version, written.Value);
            SendToReplicas(replicas, message);
            if (Array.IndexOf(replicas, NodeId) >= 0)
            {
                ApplyReplicaWrite(NodeId, message);
            }
        }
    }

    private long RequestTimeoutMs() =>
        _buggify.Fires(BuggifySite.ShortRequestTimeout) ? Math.Max(1, _options.RequestTimeoutMs / 20) : _options.RequestTimeoutMs;

    public void OnTimer(long timerId)
    {
        if (timerId < 0)
        {
            if (_delayedSends.Remove(timerId, out var delayed)) _transport.Send(delayed.To, delayed.Message);
            return;
        }
        if (!_pending.Remove(timerId, out PendingRequest? pending))
        {
            _antiEntropy.OnTimer(timerId);
            return;
        }
        if (!pending.Responded)
        {
            int acks = pending is PendingWrite w ? w.Acks : ((PendingRead)pending).ReplyCount;
            RespondUnavailable(pending, acks, "timed out");
        }
        if (pending is PendingRead read) ReadRepair(read);
    }

    private void OnWriteAck(int replica, long requestId, bool ok)
    {
        if (!_pending.TryGetValue(requestId, out PendingRequest? pending) || pending is not PendingWrite write) return;
        if (!write.TryMarkAnswered(replica, out _)) return;
        if (ok) write.Acks++;
        else write.Failures++;

        if (!write.Responded)
        {
            if (write.Acks >= write.Required)
            {
                write.Responded = true;
                Respond(write.Client, ClientStatus.Ok, write.Written.Value, write.Written.Version, write.Acks, write.Required, null);
            }
            else if (write.CannotSucceed)
            {
                RespondUnavailable(write, write.Acks, $"{write.Failures} of {write.Replicas.Length} replicas failed or were unreachable");
            }
        }
        if (write.AllAnswered) _pending.Remove(requestId);
    }

    private void OnReadReply(int replica, long requestId, StoredValue? value)
    {
        if (!_pending.TryGetValue(requestId, out PendingRequest? pending) || pending is not PendingRead read) return;
        if (!read.TryMarkAnswered(replica, out int index)) return;
        read.Replies[index] = value;
        if (value is not null) _versions.Observe(value.Version);

        int required = Planted(PlantedBug.ReadIgnoresR) ? 1 : read.Required;
        if (!read.Responded && read.ReplyCount >= required)
        {
            read.Responded = true;
            StoredValue? newest = Newest(read);
            if (newest is null)
            {
                Respond(read.Client, ClientStatus.NotFound, null, WriteVersion.Zero, read.ReplyCount, read.Required, null);
            }
            else
            {
                Respond(read.Client, newest.IsTombstone ? ClientStatus.NotFound : ClientStatus.Ok,
                    newest.Value, newest.Version, read.ReplyCount, read.Required, null);
            }
        }
        if (read.AllAnswered)
        {
            _pending.Remove(requestId);
            ReadRepair(read);
        }
    }

    /// <summary>
    /// The transport knows <paramref name="message"/> never reached <paramref name="toNode"/> (connection
    /// refused, send queue full). A replica that cannot be reached counts as failed at once, so a request
    /// that can no longer reach its R or W fails now instead of at its timeout. Must be called on the
    /// event loop, after the Send that failed has returned.
    /// </summary>
    public void OnSendFailed(int toNode, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case ReplicaWrite { RequestId: not 0 } write when _pending.ContainsKey(write.RequestId):
                OnWriteAck(toNode, write.RequestId, ok: false);
                break;
            case ReplicaRead read:
                OnReadFailed(toNode, read.RequestId);
                break;
            default:
                // Acks, replies and repair traffic: the other side's timeout or the next repair round covers them.
                break;
        }
    }

    private void OnReadFailed(int replica, long requestId)
    {
        if (!_pending.TryGetValue(requestId, out PendingRequest? pending) || pending is not PendingRead read) return;
        if (!read.TryMarkAnswered(replica, out _)) return;
        read.Failures++;
        read.Unreachable[Array.IndexOf(read.Replicas, replica)] = true;
        if (!read.Responded && read.CannotSucceed)
        {
            RespondUnavailable(read, read.ReplyCount, $"{read.Failures} of {read.Replicas.Length} replicas were unreachable");
        }
        if (read.AllAnswered)
        {
            _pending.Remove(requestId);
            ReadRepair(read);
        }
    }

    /// <summary>Sends the newest version to every replica that answered with something older (Dynamo 4.7).</summary>
    private void ReadRepair(PendingRead read)
    {
        StoredValue? newest = Newest(read);
        if (newest is null) return;
        ReplicaWrite? repair = null;
        for (int i = 0; i < read.Replicas.Length; i++)
        {
            if (!read.Answered[i] || read.Unreachable[i]) continue;
            StoredValue? held = read.Replies[i];
            if (held is not null && !Newer(newest, held)) continue;
            repair ??= new ReplicaWrite(0, read.Client.Key, newest.Version, newest.Value);
            if (read.Replicas[i] == NodeId)
            {
                ApplyReplicaWrite(NodeId, repair);
                continue;
            }
            _transport.Send(read.Replicas[i], repair);
            if (_buggify.Fires(BuggifySite.DuplicateReadRepair)) _transport.Send(read.Replicas[i], repair);
        }
    }

    private void RespondUnavailable(PendingRequest pending, int acks, string reason)
    {
        pending.Responded = true;
        Respond(pending.Client, ClientStatus.Unavailable, null, WriteVersion.Zero, acks, pending.Required,
            $"{reason}: {acks} of {pending.Required} required replicas answered");
    }

    private void Respond(ClientRequest request, ClientStatus status, byte[]? value, WriteVersion version, int acks, int required, string? error) =>
        _responder.Respond(new ClientResult(request.Id, request.Operation, status, request.Key, value, version, acks, required, error));

    private void SendToReplicas(int[] replicas, Message message)
    {
        foreach (int replica in replicas)
        {
            if (replica != NodeId) _transport.Send(replica, message);
        }
    }

    // ---------------------------------------------------------------- replica

    public void OnMessage(int fromNode, Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case ReplicaWrite write:
                ApplyReplicaWrite(fromNode, write);
                break;
            case ReplicaWriteAck ack:
                if (_pending.ContainsKey(ack.RequestId)) OnWriteAck(fromNode, ack.RequestId, ack.Ok);
                else _antiEntropy.OnWriteAck(fromNode, ack.RequestId, ack.Ok);
                break;
            case ReplicaRead read:
                {
                    StoredValue? held = ReadLocal(PartitionOf(read.Key), read.Key);
                    Message reply = held is null
                        ? new ReplicaReadReply(read.RequestId, false, WriteVersion.Zero, null)
                        : new ReplicaReadReply(read.RequestId, true, held.Version, held.Value);
                    SendMaybeDelayed(fromNode, reply, BuggifySite.DelayReadReply);
                    break;
                }
            case ReplicaReadReply reply:
                OnReadReply(fromNode, reply.RequestId, reply.AsStoredValue());
                break;
            default:
                if (!_antiEntropy.OnMessage(fromNode, message))
                {
                    throw new ArgumentException($"unhandled message {message.Kind}", nameof(message));
                }
                break;
        }
    }

    /// <summary>
    /// Stores the version if it is newer; acks (when asked) only once a write covering it is durable.
    /// </summary>
    private void ApplyReplicaWrite(int fromNode, ReplicaWrite write)
    {
        _versions.Observe(write.Version);
        int partition = PartitionOf(write.Key);
        var incoming = new StoredValue(write.Version, write.Value);
        bool newer = !_storage.TryGet(partition, write.Key, out StoredValue current) || Newer(incoming, current);
        bool wantsAck = write.RequestId != 0;
        if (!newer && !wantsAck) return;

        long token = ++_nextStorageToken;
        if (wantsAck && Planted(PlantedBug.AckBeforeDurable))
        {
            AckWrite(new WriteWaiter(fromNode, write.RequestId), durable: true);
        }
        else if (wantsAck)
        {
            _writeWaiters.Add(token, new WriteWaiter(fromNode, write.RequestId));
        }
        // A stale write is covered by the newer value we hold, but that value may not be durable yet,
        // and its pending write may still fail and roll back. Re-persisting it and acking on that
        // write's durability is the only ack that cannot outrun the disk (simulator seed 16).
        StoredValue stored = newer ? incoming : current;
        if (newer) _antiEntropy.Trees.OnVisibleChange(partition, write.Key, current?.Version, incoming);
        TrackStorageOp(token, new StorageOp(partition, write.Key, stored.Version), counted: stored.Version);
        _storage.Write(partition, write.Key, stored, token);
    }

    public void OnStorageCompleted(long completionToken, bool durable)
    {
        if (_storageOps.Remove(completionToken, out StorageOp op)) OnStorageOpDone(op, durable);
        if (_writeWaiters.Remove(completionToken, out WriteWaiter waiter)) AckWrite(waiter, durable);
    }

    private void AckWrite(WriteWaiter waiter, bool durable)
    {
        if (waiter.Coordinator == NodeId) OnWriteAck(NodeId, waiter.RequestId, durable);
        else SendMaybeDelayed(waiter.Coordinator, new ReplicaWriteAck(waiter.RequestId, durable), BuggifySite.DelayWriteAck);
    }

    private void SendMaybeDelayed(int toNode, Message message, BuggifySite site)
    {
        if (!_buggify.Fires(site))
        {
            _transport.Send(toNode, message);
            return;
        }
        long timerId = -(++_nextDelayTimerId);
        _delayedSends.Add(timerId, (toNode, message));
        _scheduler.StartTimer(timerId, _options.BuggifyDelayMs);
    }

    // ---------------------------------------------------------------- versions

    private bool Planted(PlantedBug bug) => (_options.PlantedBugs & bug) != 0;

    /// <summary>LWW "is a newer than b" (with the planted tie-breaker bug, equal timestamps never are).</summary>
    private bool Newer(StoredValue a, StoredValue b) =>
        Planted(PlantedBug.LwwNoTieBreak)
            ? a.Version.TimestampMicros > b.Version.TimestampMicros
            : Lww.Compare(a, b) > 0;

    private StoredValue? Newest(PendingRead read)
    {
        StoredValue? newest = null;
        for (int i = 0; i < read.Replies.Length; i++)
        {
            StoredValue? reply = read.Replies[i];
            if (!read.Answered[i] || reply is null) continue;
            if (newest is null || Newer(reply, newest)) newest = reply;
        }
        return newest;
    }

    /// <summary>
    /// Remembers, for each key with disk operations in flight, the version its Merkle tree counts:
    /// a failed operation is rolled back by the store, and the tree must follow what is visible then
    /// without guessing (simulator seed 459: a purge failed after a repair had re-written the same
    /// tombstone, and a guess toggled it out of the tree).
    /// </summary>
    private void TrackStorageOp(long token, StorageOp op, WriteVersion? counted)
    {
        _storageOps.Add(token, op);
        int pending = _keysInFlight.TryGetValue(op.Key, out var entry) ? entry.Pending : 0;
        _keysInFlight[op.Key] = (counted, pending + 1);
    }

    private void OnStorageOpDone(StorageOp op, bool durable)
    {
        var (counted, pending) = _keysInFlight[op.Key];
        if (!durable)
        {
            StoredValue? now = ReadLocal(op.Partition, op.Key);
            _antiEntropy.Trees.OnVisibleChange(op.Partition, op.Key, counted, now);
            counted = now?.Version;
        }
        if (pending == 1) _keysInFlight.Remove(op.Key);
        else _keysInFlight[op.Key] = (counted, pending - 1);
    }

    // ---------------------------------------------------------------- anti-entropy host

    ReplicaPlacement IRepairHost.Placement => _placement;
    IStorage IRepairHost.Storage => _storage;
    long IRepairHost.NowMicros => _clock.NowMicros;
    long IRepairHost.NewRequestId() => _nextRequestId++;
    void IRepairHost.StartTimer(long timerId, long delayMs) => _scheduler.StartTimer(timerId, delayMs);
    bool IRepairHost.SkipsFirstLeaf => Planted(PlantedBug.MerkleSkipLeaf);

    int IRepairHost.Send(int toNode, Message message)
    {
        _transport.Send(toNode, message);
        return MessageCodec.EncodedSize(message);
    }

    void IRepairHost.ApplyRepair(int partition, string key, StoredValue value) =>
        ApplyReplicaWrite(NodeId, new ReplicaWrite(0, key, value.Version, value.Value));

    void IRepairHost.PurgeTombstone(int partition, string key, WriteVersion tombstone)
    {
        long token = ++_nextStorageToken;
        _antiEntropy.Trees.OnVisibleChange(partition, key, tombstone, after: null);
        TrackStorageOp(token, new StorageOp(partition, key, tombstone), counted: null);
        _storage.Purge(partition, key, tombstone, token);
    }

    private readonly record struct StorageOp(int Partition, string Key, WriteVersion Version);

    private StoredValue? ReadLocal(int partition, string key) =>
        _storage.TryGet(partition, key, out StoredValue value) ? value : null;

    private int PartitionOf(string key) => Token.OfKey(key).Partition(_placement.PartitionCount);

    private readonly record struct WriteWaiter(int Coordinator, long RequestId);
}
