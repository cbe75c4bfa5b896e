using Meteora.Engine.Merkle;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>
/// Repairs one partition between this node and one peer, both ways, as an explicit state machine:
/// Comparing (descend both Merkle trees top-down, asking only for children of differing nodes) →
/// Streaming (fetch the peer's (key, version) lists of the differing leaves, push what we have newer
/// as acked repair pushes, pull what the peer has newer) → Done, or Failed once a request or a push
/// has timed out MaxAttempts times. One request is outstanding at a time, plus at most
/// MaxPushesInFlight pushes; every try carries a fresh id, so late or duplicated replies are ignored.
/// The session keeps its own counters; its owner (a repair job, or a ring change's transfer or
/// handoff) adds them up. A push-only session (a handoff from a node that no longer serves the
/// partition) never pulls: it only gives the peer what it lacks or holds older.
/// </summary>
internal interface ISessionOwner
{
    void OnSessionFinished(RepairSession session);
}

internal sealed class RepairSession
{
    private readonly RepairContext _ctx;
    private readonly Queue<int> _nodesToAsk = new();

    /// <summary>What streaming has to do; null until the trees first differ, which in a converged cluster they never do (issue 11: four collections per session, every anti-entropy round, were ~5 % of the simulator's allocated bytes).</summary>
    private StreamingWork? _work;
    private long _outstandingId;

    /// <summary>The request out (rebuilt with a fresh id on each retry from the asked nodes, leaves or keys), or None.</summary>
    private OutstandingRequest _outstanding;
    private int[]? _askedNodes;
    private int[]? _askedLeaves;
    private string[]? _askedKeys;
    private int _attempts;

    public RepairSession(RepairContext context, int partition, int peer, ISessionOwner owner, bool pushOnly = false, bool pullOnly = false)
    {
        if (pushOnly && pullOnly) throw new ArgumentException("a session that neither pushes nor pulls does nothing");
        _ctx = context;
        Partition = partition;
        Peer = peer;
        Owner = owner;
        PushOnly = pushOnly;
        PullOnly = pullOnly;
    }

    public int Partition { get; }
    public int Peer { get; }
    public ISessionOwner Owner { get; }
    public bool PushOnly { get; }

    /// <summary>A transfer to a pending replica: it takes what the current replicas hold and never pushes (what it holds may be stale).</summary>
    public bool PullOnly { get; }

    /// <summary>Keys the peer took from us (acked pushes) and keys we took from the peer (pulled and applied).</summary>
    public long KeysPushed { get; private set; }
    public long KeysPulled { get; private set; }

    /// <summary>Bytes of pulled entries received (what a transfer's throttle counts).</summary>
    public long BytesReceived { get; private set; }
    public RepairState State { get; private set; } = RepairState.Idle;
    public bool Finished => State is RepairState.Done or RepairState.Failed;
    public long KeysRepaired { get; private set; }
    public long BytesSent { get; private set; }

    public bool IsWaitingOn(long id) => (_outstanding != OutstandingRequest.None && id == _outstandingId) || (_work?.Pushes.ContainsKey(id) ?? false);

    private StreamingWork Work => _work ??= new StreamingWork();

    public void Start()
    {
        if (State != RepairState.Idle) throw new InvalidOperationException($"session for partition {Partition} already started");
        if (Peer == _ctx.NodeId) throw new InvalidOperationException($"node{Peer} cannot repair partition {Partition} with itself");
        State = RepairState.Comparing;
        _nodesToAsk.Enqueue(1);
        Advance();
    }

    /// <summary>Ends a session that never started as failed (its peer is down).</summary>
    public void Abandon()
    {
        if (State != RepairState.Idle) throw new InvalidOperationException($"session for partition {Partition} already started");
        State = RepairState.Failed;
    }

    public void OnHashes(MerkleHashesReply reply)
    {
        if (State != RepairState.Comparing || reply.RequestId != _outstandingId || _askedNodes is null) return;
        // A peer still rebuilding its trees says "not ready": wait for this request's timeout and
        // ask again then, instead of spending every attempt in a few milliseconds.
        if (!reply.Ready) return;
        MerkleTree? tree = LocalTree();
        if (tree is null || reply.Hashes.Length != _askedNodes.Length)
        {
            Retry();
            return;
        }
        ClearOutstanding();
        for (int i = 0; i < _askedNodes.Length; i++)
        {
            int node = _askedNodes[i];
            if (tree.NodeHash(node) == reply.Hashes[i]) continue;
            if (node >= tree.LeafCount)
            {
                int leaf = node - tree.LeafCount;
                if (leaf == 0 && _ctx.SkipsFirstLeaf) continue; // planted bug merkle-skip-leaf
                Work.LeavesToFetch.Enqueue(leaf);
            }
            else
            {
                _nodesToAsk.Enqueue(2 * node);
                _nodesToAsk.Enqueue(2 * node + 1);
            }
        }
        Advance();
    }

    public void OnEntries(LeafEntriesReply reply)
    {
        if (State != RepairState.Streaming || reply.RequestId != _outstandingId || _askedLeaves is null) return;
        if (!reply.Ready) return; // as for hashes: retried at the timeout
        MerkleTree? tree = LocalTree();
        if (tree is null || reply.LeavesCovered < 1 || reply.LeavesCovered > _askedLeaves.Length)
        {
            Retry();
            return;
        }
        ClearOutstanding();
        RequeueUncovered(Work.LeavesToFetch, _askedLeaves, reply.LeavesCovered);
        var local = new List<LeafEntry>();
        foreach (var entries in _ctx.Store.EntriesByLeaf(Partition, tree, _askedLeaves.Take(reply.LeavesCovered)).Values)
        {
            local.AddRange(entries);
        }
        var (push, pull) = LeafDiff.Compare(local, reply.Entries);
        var remoteKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (LeafEntry e in reply.Entries) remoteKeys.Add(e.Key);
        foreach (string key in PullOnly ? [] : push)
        {
            if (!remoteKeys.Contains(key) && IsPurgeableTombstone(key)) continue;
            if (!Push(key, attempt: 1)) return;
        }
        if (!PushOnly)
        {
            foreach (string key in pull) Work.KeysToPull.Enqueue(key);
        }
        Advance();
    }

    public void OnPullReply(RepairPullReply reply)
    {
        if (State != RepairState.Streaming || reply.RequestId != _outstandingId || _askedKeys is null) return;
        if (reply.KeysCovered < 1 || reply.KeysCovered > _askedKeys.Length)
        {
            Retry();
            return;
        }
        ClearOutstanding();
        long cutoffMicros = _ctx.PurgeCutoffMicros;
        foreach (RepairItem item in reply.Items)
        {
            if (PartitionOf(item.Key) != Partition) continue;
            if (item.Value is null && item.Version.TimestampMicros < cutoffMicros && _ctx.Store.Read(Partition, item.Key) is null)
            {
                continue; // a purgeable tombstone for a key we no longer have: absent already means deleted
            }
            _ctx.Store.Apply(Partition, item.Key, new StoredValue(item.Version, item.Value), ackTo: null);
            KeysRepaired++;
            KeysPulled++;
            BytesReceived += MessageCodec.KeyValueSize(item.Key, item.Value);
        }
        RequeueUncovered(Work.KeysToPull, _askedKeys, reply.KeysCovered);
        Advance();
    }

    public void OnPushAck(RepairPushAck ack)
    {
        if (_work is null || !_work.Pushes.Remove(ack.RequestId, out var push)) return;
        _ctx.Requests.Close(ack.RequestId);
        if (ack.Ok)
        {
            KeysRepaired++;
            KeysPushed++;
        }
        else if (!Push(push.Key, push.Attempt + 1)) return;
        Advance();
    }

    public void OnTimeout(long requestId)
    {
        if (Finished) return;
        if (requestId == _outstandingId && _outstanding != OutstandingRequest.None)
        {
            Retry();
        }
        else if (_work is not null && _work.Pushes.Remove(requestId, out var push))
        {
            _ctx.Requests.Close(requestId);
            if (Push(push.Key, push.Attempt + 1)) Advance();
        }
    }

    private void Advance()
    {
        if (Finished) return;
        while (_work is { } work && work.Pushes.Count < _ctx.Options.MaxPushesInFlight && work.PushesQueued.TryDequeue(out var queued))
        {
            if (!Push(queued.Key, queued.Attempt)) return;
        }
        if (_outstanding != OutstandingRequest.None) return;
        if (State == RepairState.Comparing)
        {
            if (_nodesToAsk.Count > 0)
            {
                _askedNodes = Take(_nodesToAsk, _ctx.Options.MaxNodesPerRequest);
                SendRequest(OutstandingRequest.Hashes);
                return;
            }
            State = RepairState.Streaming;
        }
        if (_work is { LeavesToFetch.Count: > 0 })
        {
            _askedLeaves = Take(_work.LeavesToFetch, _ctx.Options.MaxLeavesPerRequest);
            SendRequest(OutstandingRequest.Leaves);
            return;
        }
        if (_work is { KeysToPull.Count: > 0 })
        {
            _askedKeys = Take(_work.KeysToPull, _ctx.Options.MaxKeysPerPull);
            SendRequest(OutstandingRequest.Pull);
            return;
        }
        if (_work is null || (_work.Pushes.Count == 0 && _work.PushesQueued.Count == 0)) State = RepairState.Done;
    }

    /// <summary>Pushes our version of the key (or queues it while MaxPushesInFlight are out); false if the key used up its attempts and the session failed.</summary>
    private bool Push(string key, int attempt)
    {
        if (attempt > _ctx.Options.MaxAttempts)
        {
            Fail();
            return false;
        }
        if (Work.Pushes.Count >= _ctx.Options.MaxPushesInFlight)
        {
            Work.PushesQueued.Enqueue((key, attempt));
            return true;
        }
        StoredValue? value = _ctx.Store.Read(Partition, key);
        if (value is null) return true;
        // A handoff never pushes an entry past the tombstone grace period: the new replicas had every chance
        // to get it before the flip, and lacking it now may mean they purged its delete (a resurrection).
        if (PushOnly && value.Version.TimestampMicros < _ctx.PurgeCutoffMicros) return true;
        long id = _ctx.Requests.Open(this, _ctx.RequestTimeoutMicros);
        Work.Pushes[id] = (key, attempt);
        BytesSent += _ctx.Send(Peer, new RepairPush(id, key, value.Version, value.Value));
        return true;
    }

    private void SendRequest(OutstandingRequest request)
    {
        _attempts = 0;
        _outstanding = request;
        Resend();
    }

    private void Resend()
    {
        _attempts++;
        _outstandingId = _ctx.Requests.Open(this, _ctx.RequestTimeoutMicros);
        BytesSent += _ctx.Send(Peer, BuildOutstanding(_outstandingId));
    }

    /// <summary>The outstanding request under <paramref name="id"/>: every try carries a fresh id.</summary>
    private Message BuildOutstanding(long id) => _outstanding switch
    {
        OutstandingRequest.Hashes => new MerkleHashesRequest(id, Partition, _ctx.Options.MerkleDepth, _askedNodes!),
        OutstandingRequest.Leaves => new LeafEntriesRequest(id, Partition, _ctx.Options.MerkleDepth, _askedLeaves!),
        OutstandingRequest.Pull => new RepairPullRequest(id, Partition, _askedKeys!),
        _ => throw new InvalidOperationException($"session for partition {Partition} has no outstanding request to send"),
    };

    private void Retry()
    {
        _ctx.Requests.Close(_outstandingId);
        if (_attempts >= _ctx.Options.MaxAttempts || _outstanding == OutstandingRequest.None)
        {
            Fail();
            return;
        }
        Resend();
    }

    private void ClearOutstanding()
    {
        _ctx.Requests.Close(_outstandingId);
        _outstanding = OutstandingRequest.None;
        _outstandingId = 0;
    }

    /// <summary>Items a reply did not cover go back to the front of the queue, ahead of the rest.</summary>
    private static void RequeueUncovered<T>(Queue<T> queue, T[] asked, int covered)
    {
        var rest = new List<T>(asked.Length - covered + queue.Count);
        for (int i = covered; i < asked.Length; i++) rest.Add(asked[i]);
        rest.AddRange(queue);
        queue.Clear();
        foreach (T item in rest) queue.Enqueue(item);
    }

    private void Fail()
    {
        if (Finished) return;
        State = RepairState.Failed;
        ClearOutstanding();
        if (_work is not null)
        {
            foreach (long id in _work.Pushes.Keys) _ctx.Requests.Close(id);
            _work.Pushes.Clear();
            _work.PushesQueued.Clear();
        }
    }

    private MerkleTree? LocalTree() => _ctx.Store.Trees.Ready(Partition);

    /// <summary>
    /// A tombstone past its grace period is, for a replica that lacks the key, the same as absent:
    /// pushing it back would make replicas that purged it at different moments re-create it for each
    /// other forever. (A replica holding an older value still gets it: the key is in its entries.)
    /// </summary>
    private bool IsPurgeableTombstone(string key) =>
        _ctx.Store.Read(Partition, key) is { IsTombstone: true } value && value.Version.TimestampMicros < _ctx.PurgeCutoffMicros;

    private int PartitionOf(string key) => Hashing.Token.OfKey(key).Partition(_ctx.Ring.PartitionCount);

    private static T[] Take<T>(Queue<T> queue, int max)
    {
        var items = new T[Math.Min(max, queue.Count)];
        for (int i = 0; i < items.Length; i++) items[i] = queue.Dequeue();
        return items;
    }

    private enum OutstandingRequest : byte { None, Hashes, Leaves, Pull }

    /// <summary>Leaves to fetch, keys to pull, and pushes queued or awaiting their acks.</summary>
    private sealed class StreamingWork
    {
        public Queue<int> LeavesToFetch { get; } = new();
        public Queue<string> KeysToPull { get; } = new();
        public Queue<(string Key, int Attempt)> PushesQueued { get; } = new();
        public Dictionary<long, (string Key, int Attempt)> Pushes { get; } = new();
    }
}
