using System.Text;
using Meteora.Engine.Node;

namespace Meteora.Sim;

/// <summary>
/// Concurrent closed-loop clients: each waits for its answer, pauses, then issues its next get, set
/// or delete to a random coordinator, on a random key, at the run's R/W (or a random one). Every
/// written value is unique ("c{client}-{op}"), so a read can be traced to the write it came from.
/// </summary>
internal sealed class Workload
{
    private readonly SimCluster _cluster;
    private readonly SimOptions _options;
    private readonly SimRandom _random;
    private readonly History _history;
    private readonly List<OpRecord> _byRequestId = [];
    private int _issued;

    public Workload(SimCluster cluster, SimOptions options, SimRandom random, History history)
    {
        _cluster = cluster;
        _options = options;
        _random = random;
        _history = history;
    }

    public int Issued => _issued;

    public void Start()
    {
        for (int client = 0; client < _options.Clients; client++)
        {
            ScheduleNext(client);
        }
    }

    public void Invoke(int client)
    {
        if (_issued >= _options.Operations) return;
        long id = _issued++;
        int coordinator = _random.NextInt(_options.Nodes);
        string key = "k" + _random.NextInt(_options.Keys).ToString(System.Globalization.CultureInfo.InvariantCulture);
        int roll = _random.NextInt(100);
        ClientOperation operation = roll < 50 ? ClientOperation.Get : roll < 90 ? ClientOperation.Set : ClientOperation.Delete;
        int consistency = operation == ClientOperation.Get
            ? _options.ReadConsistency ?? _random.NextInt(1, _options.ReplicationFactor)
            : _options.WriteConsistency ?? _random.NextInt(1, _options.ReplicationFactor);
        byte[]? value = operation == ClientOperation.Set ? Encoding.UTF8.GetBytes($"c{client}-{id}") : null;

        var record = new OpRecord
        {
            Id = id,
            Client = client,
            Coordinator = coordinator,
            Operation = operation,
            Key = key,
            Value = value,
            Consistency = consistency,
            InvokeMicros = _cluster.NowMicros,
        };
        _byRequestId.Add(record);
        _history.Add(record);
        if (_cluster.Tracing) _cluster.Trace($"invoke {record}");
        _cluster.Nodes[coordinator].Engine.OnClientRequest(new ClientRequest(id, operation, key, value, consistency));
    }

    public void OnResult(int coordinator, ClientResult result)
    {
        if (result.RequestId < 0 || result.RequestId >= _byRequestId.Count)
        {
            throw new InvalidOperationException($"node {coordinator} answered unknown request {result.RequestId}");
        }
        OpRecord record = _byRequestId[(int)result.RequestId];
        if (record.Completed)
        {
            throw new InvalidOperationException($"node {coordinator} answered op#{record.Id} twice");
        }
        record.CompleteMicros = _cluster.NowMicros;
        record.Status = result.Status;
        record.ResultVersion = result.Version;
        record.ResultValue = result.Value;
        record.Acks = result.Acks;
        _cluster.HashResult(result);
        if (_cluster.Tracing) _cluster.Trace($"complete {record}{(result.Error is null ? "" : " error=" + result.Error)}");
        ScheduleNext(record.Client);
    }

    private void ScheduleNext(int client)
    {
        if (_issued >= _options.Operations) return;
        long think = _random.NextInt((int)Math.Min(int.MaxValue, _options.ClientThinkMaxMicros + 1));
        _cluster.Schedule(_cluster.NowMicros + think, new SimEvent { Kind = SimEventKind.ClientInvoke, Node = -1, Id = client });
    }
}
