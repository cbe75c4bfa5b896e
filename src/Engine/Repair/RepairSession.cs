using Meteora.Engine.Merkle;
using Meteora.Engine.Protocol;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Engine.Repair;

/// <summary>
/// Repairs one partition between this node and one peer, both ways, as an explicit state machine:
/// Comparing (descend both Merkle trees top-down, asking only for children of differing nodes) →
/// Streaming (fetch the peer's (key, version) lists of the differing leaves, push what we have newer
/// with acked writes, pull what the peer has newer) → Done, or Failed once a request has timed out
/// MaxAttempts times. One request is outstanding at a time, plus the pushes; every request carries
/// a fresh id, so late or duplicated replies are ignored.
/// </summary>
internal sealed class RepairSession
{
    private const int MaxNodesPerRequest = 1024;
    private const int MaxLeavesPerRequest = 256;
    private const int MaxKeysPerPull = 512;

    private readonly IRepairHost _host;
    private readonly RepairOptions _options;
    private readonly Queue<int> _nodesToAsk = new();
    private readonly Queue<int> _leavesToFetch = new();
    private readonly Queue<string> _keysToPull = new();
    private readonly Dictionary<long, (string Key, int Attempts)> _pushes = new();
    private long _outstandingId;
    /// <summary>Builds the outstanding request for a given request id (each retry gets a fresh id); null when none is outstanding.</summary>
    private Func<long, Message>? _outstanding;
    private int[]? _askedNodes;
    private int[]? _askedLeaves;
    private string[]? _askedKeys;
    private int _attempts;

    public RepairSession(IRepairHost host, RepairOptions options, RepairJob job, int partition, int peer)
    {
        _host = host;
        _options = options;
        Job = job;
        Partition = partition;
        Peer = peer;
    }

    public RepairJob Job { get; }
    public int Partition { get; }
    public int Peer { get; }
    public RepairState State { get; private set; } = RepairState.Idle;
    public bool Finished => State is RepairState.Done or RepairState.Failed;

    /// <summary>Request ids this session is waiting on (the outstanding request and unacked pushes).</summary>
    public IEnumerable<long> WaitingOn()
    {
        if (_outstanding is not null) yield return _outstandingId;
        foreach (long id in _pushes.Keys) yield return id;
    }

    public void Start()
    {
        if (State != RepairState.Idle) throw new InvalidOperationException($"session for partition {Partition} already started");
        if (_host.Placement.IsReplica(Partition, Peer) == false || Peer == _host.NodeId)
        {
            throw new InvalidOperationException($"node{Peer} is not a peer replica of partition {Partition}");
        }
        State = RepairState.Comparing;
        _nodesToAsk.Enqueue(1);
        Advance();
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
                if (leaf == 0 && _host.SkipsFirstLeaf) continue; // planted bug merkle-skip-leaf
                _leavesToFetch.Enqueue(leaf);
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
        RequeueUncovered(_leavesToFetch, _askedLeaves, reply.LeavesCovered);
        var local = new List<LeafEntry>();
        foreach (var entries in LeafDiff.EntriesByLeaf(_host.Storage, Partition, tree, _askedLeaves.Take(reply.LeavesCovered)).Values)
        {
            local.AddRange(entries);
        }
        var (push, pull) = LeafDiff.Compare(local, reply.Entries);
        var remoteKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (LeafEntry e in reply.Entries) remoteKeys.Add(e.Key);
        foreach (string key in push)
        {
            if (!remoteKeys.Contains(key) && IsPurgeableTombstone(key)) continue;
            SendPush(key, attempt: 1);
        }
        foreach (string key in pull) _keysToPull.Enqueue(key);
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
        foreach (RepairItem item in reply.Items)
        {
            if (Token(item.Key) != Partition) continue;
            if (item.Value is null && item.Version.TimestampMicros < PurgeCutoffMicros
                && !_host.Storage.TryGet(Partition, item.Key, out _))
            {
                continue; // a purgeable tombstone for a key we no longer have: absent already means deleted
            }
            _host.ApplyRepair(Partition, item.Key, new StoredValue(item.Version, item.Value));
            Job.KeysRepaired++;
        }
        RequeueUncovered(_keysToPull, _askedKeys, reply.KeysCovered);
        Advance();
    }

    public void OnPushAck(long requestId, bool ok)
    {
        if (!_pushes.Remove(requestId, out var push)) return;
        if (ok) Job.KeysRepaired++;
        else if (!SendPush(push.Key, push.Attempts + 1)) return;
        Advance();
    }

    public void OnTimeout(long requestId)
    {
        if (Finished) return;
        if (requestId == _outstandingId && _outstanding is not null)
        {
            Retry();
        }
        else if (_pushes.Remove(requestId, out var push))
        {
            if (SendPush(push.Key, push.Attempts + 1)) Advance();
        }
    }

    private void Advance()
    {
        if (Finished || _outstanding is not null) return;
        if (State == RepairState.Comparing)
        {
            if (_nodesToAsk.Count > 0)
            {
                _askedNodes = Take(_nodesToAsk, MaxNodesPerRequest);
                SendRequest(id => new MerkleHashesRequest(id, Partition, _options.MerkleDepth, _askedNodes));
                return;
            }
            State = RepairState.Streaming;
        }
        if (_leavesToFetch.Count > 0)
        {
            _askedLeaves = Take(_leavesToFetch, MaxLeavesPerRequest);
            SendRequest(id => new LeafEntriesRequest(id, Partition, _options.MerkleDepth, _askedLeaves));
            return;
        }
        if (_keysToPull.Count > 0)
        {
            _askedKeys = Take(_keysToPull, MaxKeysPerPull);
            SendRequest(id => new RepairPullRequest(id, Partition, _askedKeys));
            return;
        }
        if (_pushes.Count == 0)
        {
            State = RepairState.Done;
            Job.OnSessionFinished(this);
        }
    }

    /// <summary>Pushes our version of the key as an acked write; false if the key has used up its attempts (the session failed).</summary>
    private bool SendPush(string key, int attempt)
    {
        if (attempt > _options.MaxAttempts)
        {
            Fail();
            return false;
        }
        if (!_host.Storage.TryGet(Partition, key, out StoredValue value)) return true;
        long id = _host.NewRequestId();
        _pushes[id] = (key, attempt);
        Job.BytesSent += _host.Send(Peer, new ReplicaWrite(id, key, value.Version, value.Value));
        _host.StartTimer(id, _options.RequestTimeoutMs);
        return true;
    }

    private void SendRequest(Func<long, Message> build)
    {
        _attempts = 0;
        _outstanding = build;
        Resend();
    }

    private void Resend()
    {
        _attempts++;
        _outstandingId = _host.NewRequestId();
        Job.BytesSent += _host.Send(Peer, _outstanding!(_outstandingId));
        _host.StartTimer(_outstandingId, _options.RequestTimeoutMs);
    }

    private void Retry()
    {
        if (_attempts >= _options.MaxAttempts || _outstanding is null)
        {
            Fail();
            return;
        }
        Resend();
    }

    private void ClearOutstanding()
    {
        _outstanding = null;
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
        _pushes.Clear();
        Job.OnSessionFinished(this);
    }

    private MerkleTree? LocalTree() => Job.Trees.Ready(Partition);

    private long PurgeCutoffMicros => _host.NowMicros - _options.TombstoneGraceMs * 1000;

    /// <summary>
    /// A tombstone past its grace period is, for a replica that lacks the key, the same as absent:
    /// pushing it back would make replicas that purged it at different moments re-create it for each
    /// other forever. (A replica holding an older value still gets it: the key is in its entries.)
    /// </summary>
    private bool IsPurgeableTombstone(string key) =>
        _host.Storage.TryGet(Partition, key, out StoredValue value) && value.IsTombstone
        && value.Version.TimestampMicros < PurgeCutoffMicros;

    private int Token(string key) => Hashing.Token.OfKey(key).Partition(_host.Placement.PartitionCount);

    private static T[] Take<T>(Queue<T> queue, int max)
    {
        var items = new T[Math.Min(max, queue.Count)];
        for (int i = 0; i < items.Length; i++) items[i] = queue.Dequeue();
        return items;
    }
}
