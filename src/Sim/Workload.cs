using Meteora.Checking;
using System.Globalization;
using System.Text;
using Meteora.Engine.Node;

namespace Meteora.Sim;

/// <summary>
/// Closed-loop clients executing the schedule's planned operations: each client issues its ops in
/// order, waiting for each answer and a short think time. Op i writes the unique value "op{i}", so a
/// read can be traced to the write it came from. A request to a down coordinator fails at once; a
/// coordinator crash fails its in-flight requests as indeterminate (they may or may not have applied).
/// </summary>
internal sealed class Workload
{
    private readonly SimCluster _cluster;
    private readonly SimRandom _random;
    private readonly IReadOnlyList<PlannedOp> _plan;
    private readonly Queue<int>[] _byClient;
    private readonly List<OpRecord> _byRequestId = [];
    /// <summary>By operation id. A hash map, not a sorted one (a tree node per operation was 3 % of the run's allocated bytes); the one walk sorts what it collects.</summary>
    private readonly Dictionary<long, OpRecord> _inFlight = new();

    public Workload(SimCluster cluster, SimRandom random, IReadOnlyList<PlannedOp> plan)
    {
        _cluster = cluster;
        _random = random;
        _plan = plan;
        _byClient = new Queue<int>[cluster.Options.Clients];
        for (int c = 0; c < _byClient.Length; c++) _byClient[c] = new Queue<int>();
        for (int i = 0; i < plan.Count; i++) _byClient[plan[i].Client].Enqueue(i);
    }

    public int PlannedCompleted { get; private set; }

    public bool PlanDone => PlannedCompleted == _plan.Count;

    public int InFlight => _inFlight.Count;

    public void Start()
    {
        for (int client = 0; client < _byClient.Length; client++) ScheduleNext(client);
    }

    public void Invoke(int client)
    {
        if (!_byClient[client].TryDequeue(out int index)) return;
        PlannedOp op = _plan[index];
        byte[]? value = op.Operation == ClientOperation.Set
            ? Encoding.UTF8.GetBytes("op" + index.ToString(CultureInfo.InvariantCulture))
            : null;
        Issue(op.Client, op.Coordinator, op.Operation, op.Key, value, op.Consistency, op.PrimaryOnly, quiescence: false);
    }

    /// <summary>After healing: one read of every given key at R=N, which read-repairs every replica.</summary>
    public void StartQuiescenceReads(IEnumerable<string> keys)
    {
        // Coordinators: the running members of the final ring, in turn.
        var ring = _cluster.NewestRing();
        var coordinators = new List<int>();
        foreach (SimNode node in _cluster.Nodes)
        {
            if (node.Up && ring?.MemberOf(node.Id) is not null) coordinators.Add(node.Id);
        }
        if (coordinators.Count == 0) coordinators.Add(0);
        int next = 0;
        int replicas = _cluster.FinalPlacement.EffectiveReplicas;
        foreach (string key in keys)
        {
            Issue(-1, coordinators[next], ClientOperation.Get, key, null, replicas, primaryOnly: true, quiescence: true);
            next = (next + 1) % coordinators.Count;
        }
    }

    private void Issue(int client, int coordinator, ClientOperation operation, string key, byte[]? value, int consistency, bool primaryOnly, bool quiescence)
    {
        var record = OpRecord.Invoked(_byRequestId.Count, client, coordinator, operation, key, value, consistency,
            _cluster.NowMicros, SimCluster.EpochMicros, quiescence);
        record.PrimaryOnly = primaryOnly;
        _byRequestId.Add(record);
        _cluster.History.Add(record);
        if (_cluster.Tracing) _cluster.Trace($"invoke {record}");
        SimNode node = _cluster.Nodes[coordinator];
        if (!node.Up)
        {
            Complete(record, ClientStatus.Unavailable, default, null, 0, $"coordinator node{coordinator} is down");
            return;
        }
        _inFlight.Add(record.Id, record);
        node.Engine.OnClientRequest(new ClientRequest(record.Id, operation, key, value, consistency, primaryOnly));
        _cluster.CheckInvariants(coordinator);
    }

    public void OnResult(int coordinator, ClientResult result)
    {
        if (result.RequestId < 0 || result.RequestId >= _byRequestId.Count)
        {
            throw new InvalidOperationException($"node{coordinator} answered unknown request {result.RequestId}");
        }
        OpRecord record = _byRequestId[(int)result.RequestId];
        if (record.Completed)
        {
            throw new InvalidOperationException($"node{coordinator} answered op#{record.Id} twice");
        }
        if (record.Coordinator != coordinator)
        {
            throw new InvalidOperationException($"node{coordinator} answered op#{record.Id}, which node{record.Coordinator} coordinates");
        }
        _cluster.HashResult(result);
        Complete(record, result.Status, result.Version, result.Value, result.Acks, result.Error);
    }

    /// <summary>The coordinator died: its in-flight requests end with an indeterminate failure.</summary>
    public void OnCoordinatorCrashed(int node)
    {
        var lost = new List<OpRecord>();
        foreach (var (_, record) in _inFlight)
        {
            if (record.Coordinator == node) lost.Add(record);
        }
        lost.Sort(static (a, b) => a.Id.CompareTo(b.Id)); // completed in id order, as they always were
        foreach (OpRecord record in lost)
        {
            Complete(record, ClientStatus.Unavailable, default, null, 0, $"coordinator node{node} crashed; outcome unknown");
        }
    }

    private void Complete(OpRecord record, ClientStatus status, Meteora.Engine.Versioning.WriteVersion version, byte[]? value, int acks, string? error)
    {
        _inFlight.Remove(record.Id);
        record.CompleteMicros = _cluster.NowMicros;
        record.Status = status;
        record.ResultVersion = version;
        record.ResultValue = value;
        record.Acks = acks;
        record.Error = error;
        if (_cluster.Tracing) _cluster.Trace($"complete {record}{(error is null ? "" : " error=" + error)}");
        if (record.Quiescence) return;
        PlannedCompleted++;
        ScheduleNext(record.Client, backOff: status == ClientStatus.Unavailable);
    }

    /// <summary>After a failure a client backs off, as real clients do, instead of spinning on a dead node.</summary>
    private const long FailureBackoffMicros = 20_000;

    private void ScheduleNext(int client, bool backOff = false)
    {
        if (_byClient[client].Count == 0) return;
        long think = _random.NextInt((int)Math.Min(int.MaxValue, _cluster.Options.ClientThinkMaxMicros + 1));
        if (backOff) think += FailureBackoffMicros;
        _cluster.Enqueue(_cluster.NowMicros + think, new SimEvent { Kind = SimEventKind.ClientInvoke, Node = -1, Id = client });
    }
}
