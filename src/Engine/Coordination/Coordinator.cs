using System.Runtime.CompilerServices;
using Meteora.Engine.Hashing;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Coordination;

/// <summary>
/// The coordinator room (Dynamo section 4.5): takes client requests, sends them to the N replicas of
/// the key's preference list (this node included, through its local queue), feeds replies into the
/// pure quorum cores and acts on their decisions: answers the client once, and read-repairs stale
/// replicas (Dynamo 4.7) when a read is complete. Owns the pending requests and the version clock.
/// </summary>
internal sealed class Coordinator
{
    /// <summary>Clients ask for the same keys again and again: hash each recent one once.</summary>
    private readonly KeyTokenCache _tokens = new();
    private readonly NodeOptions _options;
    private readonly Membership.RingView _ring;
    private readonly VersionClock _versions;
    private readonly VersionOrder _order;
    private readonly Outbox _outbox;
    private readonly IScheduler _scheduler;
    private readonly IClientResponder _responder;
    private readonly IBuggify _buggify;
    private readonly Membership.FailureDetector _detector;
    private readonly NodeCounters _counters;
    private readonly Dictionary<long, PendingWrite> _writes = new();
    private readonly Dictionary<long, PendingRead> _reads = new();
    private long _nextRequestId;

    public Coordinator(NodeOptions options, Membership.RingView ring, VersionClock versions, VersionOrder order,
        Outbox outbox, IScheduler scheduler, IClientResponder responder, IBuggify buggify, IRandom random,
        Membership.FailureDetector detector, NodeCounters counters)
    {
        _detector = detector;
        _options = options;
        _ring = ring;
        _versions = versions;
        _order = order;
        _outbox = outbox;
        _scheduler = scheduler;
        _responder = responder;
        _buggify = buggify;
        _counters = counters;
        // Request ids start at a random point so replies meant for an earlier incarnation of this
        // node (before a crash) cannot be mistaken for replies to new requests.
        _nextRequestId = (long)(random.NextUInt64() >> 2) + 1;
    }

    public int PendingCount => _writes.Count + _reads.Count;

    public int DefaultReadConsistency => _options.DefaultReadConsistency ?? Majority;

    public int DefaultWriteConsistency => _options.DefaultWriteConsistency ?? Majority;

    private int Majority => Math.Min(_ring.IsMember ? _ring.Current.EffectiveReplicas : _options.ReplicationFactor, _options.ReplicationFactor / 2 + 1);

    public void OnClientRequest(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        int required = request.Consistency
            ?? (request.Operation == ClientOperation.Get ? DefaultReadConsistency : DefaultWriteConsistency);
        if (!_ring.IsMember)
        {
            // A joining node before it has the ring, or a node that left or was removed: it cannot place keys.
            Respond(request, ClientStatus.Unavailable, null, WriteVersion.Zero, 0, required,
                _ring.State is null ? $"node {_options.NodeId} is joining and has not received the ring yet" : $"node {_options.NodeId} is not a member of the ring (version {_ring.Version})");
            return;
        }
        ReplicaPlacement placement = _ring.Current;
        string? error = RequestValidation.Check(request, required, placement.EffectiveReplicas);
        if (error is not null)
        {
            Respond(request, ClientStatus.InvalidRequest, null, WriteVersion.Zero, 0, required, error);
            return;
        }
        if (PendingCount >= Limits.MaxPendingRequests)
        {
            Respond(request, ClientStatus.Unavailable, null, WriteVersion.Zero, 0, required,
                $"coordinator has {Limits.MaxPendingRequests} requests in flight; retry later");
            return;
        }
        int partition = _tokens.Of(request.Key).Partition(placement.PartitionCount);
        int[] replicas = placement.PreferenceArray(partition); // shared, read-only
        int[] fallbacks = request.PrimaryOnly ? NoNodes : placement.FallbackArray(partition);
        long requestId = _nextRequestId++;
        _scheduler.StartTimer(new TimerId(TimerOwner.ClientRequest, requestId), RequestTimeoutMicros());
        if (request.Operation == ClientOperation.Get) StartRead(requestId, request, replicas, fallbacks, required);
        else StartWrite(requestId, request, replicas, fallbacks, required, _ring.PendingReplicas(partition));
    }

    private static readonly int[] NoNodes = [];

    private void StartRead(long requestId, ClientRequest request, int[] replicas, int[] fallbacks, int required)
    {
        int deciding = (_options.PlantedBugs & PlantedBug.ReadIgnoresR) != 0 ? 1 : required;
        _reads.Add(requestId, new PendingRead(requestId, request, replicas, fallbacks, required, deciding, _order));
        var message = new ReplicaRead(requestId, request.Key);
        SendToLiveReplicas(replicas, message);
    }

    /// <param name="pending">Nodes a running ring change moves the partition to: they get the write too
    /// (Cassandra's pending ranges), but their acks do not count, since reads do not ask them yet.</param>
    private void StartWrite(long requestId, ClientRequest request, int[] replicas, int[] fallbacks, int required, int[] pending)
    {
        var written = new StoredValue(_versions.Next(), request.Operation == ClientOperation.Set ? request.Value : null);
        _writes.Add(requestId, new PendingWrite(requestId, request, replicas, fallbacks, pending, required, written));
        var message = new ReplicaWrite(requestId, request.Key, written.Version, written.Value);
        SendToLiveReplicas(replicas, message);
        foreach (int node in pending)
        {
            if (!_detector.IsDown(node)) _outbox.Send(node, message);
        }
    }

    /// <summary>
    /// Sends to every replica the failure detector does not suspect, then counts each suspected one as
    /// failed at once: a request that cannot reach R or W without them fails now, not at its timeout.
    /// Sends come first so live replicas get a write even when the request is already lost.
    /// </summary>
    private void SendToLiveReplicas(int[] replicas, Message message)
    {
        // One verdict per replica for the whole request (the real clock moves between calls).
        Span<bool> down = stackalloc bool[replicas.Length];
        int suspected = 0;
        for (int i = 0; i < replicas.Length; i++)
        {
            down[i] = _detector.IsDown(replicas[i]);
            if (down[i]) suspected++;
            else _outbox.Send(replicas[i], message);
        }
        if (suspected == 0) return;
        for (int i = 0; i < replicas.Length; i++)
        {
            if (down[i]) OnSendFailed(replicas[i], message);
        }
    }

    private long RequestTimeoutMicros() => TimeUnits.MsToMicros(
        _buggify.Fires(BuggifySite.ShortRequestTimeout) ? Math.Max(1, _options.RequestTimeoutMs / 20) : _options.RequestTimeoutMs);

    /// <summary>Every version this node stores or hears of moves its clock (hybrid logical clock).</summary>
    public void Observe(WriteVersion version) => _versions.Observe(version);

    public void OnWriteAck(int replica, ReplicaWriteAck ack)
    {
        // A fallback that refuses a hint (its bounds are full, or it is leaving) is passed over like an unreachable one.
        if (!ack.Ok && _writes.TryGetValue(ack.RequestId, out PendingWrite? write) && write.StandIns?.SlotOf(replica) >= 0)
        {
            OnWriteUnreachable(replica, ack.RequestId);
            return;
        }
        OnWriteAnswer(replica, ack.RequestId, ack.Ok);
    }

    private void OnWriteAnswer(int replica, long requestId, bool ok)
    {
        if (!_writes.TryGetValue(requestId, out PendingWrite? write)) return;
        int index = write.SlotOf(replica);
        if (index < 0) return; // not a replica or stand-in of this request: ignore, never count
        OnSlotAnswer(write, index, ok);
    }

    private void OnSlotAnswer(PendingWrite write, int slot, bool ok)
    {
        if (ok) _counters.ReplicaWriteAcks++;
        else _counters.ReplicaWriteFailures++;
        Act(write, write.Quorum.Add(slot, ok));
        if (write.Quorum.AllAnswered) _writes.Remove(write.RequestId);
    }

    public void OnReadReply(int replica, ReplicaReadReply reply)
    {
        if (!_reads.TryGetValue(reply.RequestId, out PendingRead? read)) return;
        int index = read.SlotOf(replica);
        if (index < 0) return;
        _counters.ReplicaReadReplies++;
        StoredValue? value = reply.AsStoredValue();
        if (value is not null) _versions.Observe(value.Version);
        Act(read, read.Quorum.AddReply(index, value));
        if (read.Quorum.AllAnswered) FinishRead(read);
    }

    /// <summary>
    /// The transport knows <paramref name="message"/> never reached <paramref name="toNode"/>: that replica
    /// counts as failed at once, so a request that can no longer reach R or W fails now, not at its timeout.
    /// </summary>
    public void OnSendFailed(int toNode, Message message)
    {
        switch (message)
        {
            case ReplicaWrite write:
                OnWriteUnreachable(toNode, write.RequestId);
                break;
            case HintedWrite hinted:
                OnWriteUnreachable(toNode, hinted.RequestId);
                break;
            case ReplicaRead request:
                FailRead(toNode, request.RequestId, standIn: true);
                break;
            case HintedRead hinted:
                FailRead(toNode, hinted.RequestId, standIn: true);
                break;
        }
    }

    /// <summary>
    /// A replica (or its stand-in) of a write cannot be reached: a sloppy write sends it to the next
    /// fallback with a hint naming the primary, and only when none is left does the slot fail.
    /// </summary>
    private void OnWriteUnreachable(int node, long requestId)
    {
        if (!_writes.TryGetValue(requestId, out PendingWrite? write)) return;
        int slot = write.SlotOf(node);
        if (slot < 0 || write.Quorum.HasAnswered(slot)) return;
        int standIn = ChooseStandIn(write, slot, write.Pending);
        if (standIn < 0)
        {
            OnSlotAnswer(write, slot, ok: false); // by slot: a stand-in that failed is no longer mapped to it
            return;
        }
        _counters.HintedWritesSent++;
        StoredValue written = write.Written;
        _outbox.Send(standIn, new HintedWrite(requestId, write.Client.Key, written.Version, written.Value, write.Replicas[slot]));
    }

    /// <summary>The fallback now standing in for <paramref name="slot"/>, or -1 (strict request, or none left).</summary>
    private int ChooseStandIn(PendingRequest request, int slot, int[] pending)
    {
        if (request.Fallbacks.Length == 0) return -1;
        request.StandIns ??= new StandIns(request.Fallbacks, request.Replicas.Length);
        return request.StandIns.Choose(slot, _detector, pending);
    }

    /// <summary>A replica no longer serves the key's partition (our ring is older): its read counts as failed.</summary>
    public void OnReadRefused(int replica, ReplicaRefused refused) => FailRead(replica, refused.RequestId, standIn: false);

    /// <param name="standIn">The replica is unreachable: a sloppy read asks a fallback's hints in its place.</param>
    private void FailRead(int replica, long requestId, bool standIn)
    {
        if (!_reads.TryGetValue(requestId, out PendingRead? read)) return;
        int index = read.SlotOf(replica);
        if (index < 0 || read.Quorum.HasAnswered(index)) return;
        int fallback = standIn ? ChooseStandIn(read, index, NoNodes) : -1;
        if (fallback >= 0)
        {
            _outbox.Send(fallback, new HintedRead(requestId, read.Client.Key));
            return;
        }
        _counters.ReplicaReadFailures++;
        Act(read, read.Quorum.AddFailure(index));
        if (read.Quorum.AllAnswered) FinishRead(read);
    }

    public void OnTimeout(long requestId)
    {
        if (_writes.Remove(requestId, out PendingWrite? write))
        {
            Act(write, CountTimeout(write.Quorum.Timeout()));
        }
        else if (_reads.TryGetValue(requestId, out PendingRead? read))
        {
            Act(read, CountTimeout(read.Quorum.Timeout()));
            FinishRead(read);
        }
    }

    /// <summary>A timeout that fails the request is a quorum timeout; one after the client had its answer is not.</summary>
    private QuorumDecision CountTimeout(QuorumDecision decision)
    {
        if (decision == QuorumDecision.Unavailable) _counters.QuorumTimeouts++;
        return decision;
    }

    private void FinishRead(PendingRead read)
    {
        _reads.Remove(read.RequestId);
        ReadRepairAction repair = read.Quorum.FinalAction();
        if (repair.IsEmpty) return;
        StoredValue newest = repair.Value!;
        var message = new ReadRepair(read.Client.Key, newest.Version, newest.Value);
        for (int i = 0; i < read.Replicas.Length; i++)
        {
            if (!repair.IsTarget(i) || read.StoodIn(i)) continue; // a fallback's hints are not a replica to repair
            _outbox.Send(read.Replicas[i], message);
            _counters.ReadRepairsSent++;
            if (_buggify.Fires(BuggifySite.DuplicateReadRepair)) _outbox.Send(read.Replicas[i], message);
        }
    }

    private void Act(PendingWrite write, QuorumDecision decision)
    {
        WriteQuorum q = write.Quorum;
        switch (decision)
        {
            case QuorumDecision.Ok:
                Respond(write.Client, ClientStatus.Ok, write.Written.Value, write.Written.Version, q.Acks, q.Required, null);
                break;
            case QuorumDecision.Unavailable:
                string reason = q.CannotSucceed ? $"{q.Failures} of {q.ReplicaCount} replicas failed or were unreachable{Missing(write, q)}" : "timed out";
                RespondUnavailable(write.Client, q.Acks, q.Required, reason);
                break;
        }
    }

    private void Act(PendingRead read, QuorumDecision decision)
    {
        ReadQuorum q = read.Quorum;
        StoredValue? newest = q.Newest;
        switch (decision)
        {
            case QuorumDecision.Ok:
                Respond(read.Client, ClientStatus.Ok, newest!.Value, newest.Version, q.Replies, read.Required, null);
                break;
            case QuorumDecision.NotFound:
                Respond(read.Client, ClientStatus.NotFound, null, newest?.Version ?? WriteVersion.Zero, q.Replies, read.Required, null);
                break;
            case QuorumDecision.Unavailable:
                string reason = q.CannotSucceed ? $"{q.Failures} of {q.ReplicaCount} replicas were unreachable{Missing(read, q)}" : "timed out";
                RespondUnavailable(read.Client, q.Replies, read.Required, reason);
                break;
        }
    }

    /// <summary>" (node 3, node 5; ...)": the primaries that failed, so an operator knows whom to look at.</summary>
    private static string Missing(PendingRequest request, QuorumCore q)
    {
        var text = new System.Text.StringBuilder(" (");
        for (int i = 0; i < request.Replicas.Length; i++)
        {
            if (!q.HasFailed(i)) continue;
            if (text.Length > 2) text.Append(", ");
            text.Append("node ").Append(request.Replicas[i]);
        }
        text.Append(request.Client.PrimaryOnly ? "; primary replicas only, fallbacks not counted)"
            : request.Fallbacks.Length == 0 ? "; no fallback node past the first N)" : "; no fallback left to stand in)");
        return text.ToString();
    }

    private void RespondUnavailable(ClientRequest client, int acks, int required, string reason) =>
        Respond(client, ClientStatus.Unavailable, null, WriteVersion.Zero, acks, required,
            $"{reason}: {acks} of {required} required replicas answered");

    private void Respond(ClientRequest request, ClientStatus status, byte[]? value, WriteVersion version, int acks, int required, string? error) =>
        _responder.Respond(new ClientResult(request.Id, request.Operation, status, request.Key, value, version, acks, required, error));

    /// <summary>The maps stay within their limit; <paramref name="deep"/>: every pending request's counters agree.</summary>
    /// <summary>Runs after every event: the walk and the message live in other methods, so this frame stays small (issue 11).</summary>
    public void CheckInvariants(bool deep)
    {
        if (PendingCount > Limits.MaxPendingRequests) ThrowTooMany(PendingCount);
        if (deep) CheckPendingQuorums();

        static void ThrowTooMany(int pending) => throw new InvalidOperationException($"{pending} pending requests exceed {Limits.MaxPendingRequests}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckPendingQuorums()
    {
        foreach (PendingWrite write in _writes.Values)
        {
            write.Quorum.CheckInvariants();
            if (write.Quorum.AllAnswered) throw new InvalidOperationException($"write {write.RequestId} fully answered but still pending");
        }
        foreach (PendingRead read in _reads.Values)
        {
            read.Quorum.CheckInvariants();
            if (read.Quorum.AllAnswered) throw new InvalidOperationException($"read {read.RequestId} fully answered but still pending");
        }
    }
}
