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
    private readonly List<KeyValuePair<string, StoredValue>> _scratch = [];
    private long _outstandingId;
    private Message? _outstanding;
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

    public void OnEntries(LeafEntriesReply reply, Func<int, MerkleTree?> trees)
    {
        if (State != RepairState.Streaming || reply.RequestId != _outstandingId || _askedLeaves is null) return;
        if (!reply.Ready) return; // as for hashes: retried at the timeout
        MerkleTree? tree = trees(Partition);
        if (tree is null || reply.LeavesCovered < 1 || reply.LeavesCovered > _askedLeaves.Length)
        {
            Retry();
            return;
        }
        ClearOutstanding();
        var covered = new HashSet<int>();
        for (int i = 0; i < reply.LeavesCovered; i++) covered.Add(_askedLeaves[i]);
        // Leaves that did not fit go back to the front of the line.
        var rest = new List<int>();
        for (int i = reply.LeavesCovered; i < _askedLeaves.Length; i++) rest.Add(_askedLeaves[i]);
        foreach (int leaf in _leavesToFetch) rest.Add(leaf);
        _leavesToFetch.Clear();
        foreach (int leaf in rest) _leavesToFetch.Enqueue(leaf);

        var local = LocalEntries(tree, covered);
        var (push, pull) = LeafDiff.Compare(local, reply.Entries);
        var remoteKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (LeafEntry e in reply.Entries) remoteKeys.Add(e.Key);
        foreach (string key in push)
        {
            if (!remoteKeys.Contains(key) && IsPurgeableTombstone(key)) continue;
            Push(key);
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
        var rest = new List<string>();
        for (int i = reply.KeysCovered; i < _askedKeys.Length; i++) rest.Add(_askedKeys[i]);
        foreach (string key in _keysToPull) rest.Add(key);
        _keysToPull.Clear();
        foreach (string key in rest) _keysToPull.Enqueue(key);
        Advance();
    }

    public void OnPushAck(long requestId, bool ok)
    {
        if (!_pushes.Remove(requestId, out var push)) return;
        if (ok) Job.KeysRepaired++;
        else if (!RetryPush(push.Key, push.Attempts)) return;
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
            if (RetryPush(push.Key, push.Attempts)) Advance();
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

    private void Push(string key)
    {
        if (!_host.Storage.TryGet(Partition, key, out StoredValue value)) return;
        long id = _host.NewRequestId();
        _pushes[id] = (key, 1);
        Job.BytesSent += _host.Send(Peer, new ReplicaWrite(id, key, value.Version, value.Value));
        _host.StartTimer(id, _options.RequestTimeoutMs);
    }

    private bool RetryPush(string key, int attempts)
    {
        if (attempts >= _options.MaxAttempts)
        {
            Fail();
            return false;
        }
        if (!_host.Storage.TryGet(Partition, key, out StoredValue value)) return true;
        long id = _host.NewRequestId();
        _pushes[id] = (key, attempts + 1);
        Job.BytesSent += _host.Send(Peer, new ReplicaWrite(id, key, value.Version, value.Value));
        _host.StartTimer(id, _options.RequestTimeoutMs);
        return true;
    }

    private void SendRequest(Func<long, Message> build)
    {
        _attempts = 0;
        Resend(build);
    }

    private Func<long, Message>? _rebuild;

    private void Resend(Func<long, Message> build)
    {
        _rebuild = build;
        _attempts++;
        _outstandingId = _host.NewRequestId();
        _outstanding = build(_outstandingId);
        Job.BytesSent += _host.Send(Peer, _outstanding);
        _host.StartTimer(_outstandingId, _options.RequestTimeoutMs);
    }

    private void Retry()
    {
        if (_attempts >= _options.MaxAttempts || _rebuild is null)
        {
            Fail();
            return;
        }
        Resend(_rebuild);
    }

    private void ClearOutstanding()
    {
        _outstanding = null;
        _rebuild = null;
        _outstandingId = 0;
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

    private List<LeafEntry> LocalEntries(MerkleTree tree, HashSet<int> leaves)
    {
        var entries = new List<LeafEntry>();
        string? after = null;
        while (true)
        {
            _scratch.Clear();
            int n = _host.Storage.Scan(Partition, after, _scratch, 4096);
            foreach (var (key, value) in _scratch)
            {
                if (leaves.Contains(tree.LeafOf(key))) entries.Add(new LeafEntry(key, value.Version));
            }
            if (n < 4096) return entries;
            after = _scratch[^1].Key;
        }
    }

    private int Token(string key) => Hashing.Token.OfKey(key).Partition(_host.Placement.PartitionCount);

    private static T[] Take<T>(Queue<T> queue, int max)
    {
        var items = new T[Math.Min(max, queue.Count)];
        for (int i = 0; i < items.Length; i++) items[i] = queue.Dequeue();
        return items;
    }
}
