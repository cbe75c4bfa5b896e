using System.Text;
using Meteora.Checking;
using Meteora.Engine.Node;

namespace Meteora.Nemesis;

/// <summary>
/// Concurrent clients, each a loop of get / set / delete on a small key space (so operations on a key
/// overlap and race) against a random node, at a random R or W in 1..N. Every value is unique
/// ("c{client}-{n}"), so a read names the one set that wrote it. Every operation goes into the
/// history at invocation and is completed in place.
/// </summary>
internal sealed class ClientWorkload
{
    /// <summary>Operations kept before the clients stop issuing more (a bound on the history's memory).</summary>
    public const int MaxOperations = 2_000_000;

    private const int MaxThinkMs = 10;

    /// <summary>After a failure a client backs off, as real clients (and the simulator's) do, instead of spinning on a dead node.</summary>
    private const int FailureBackoffMs = 20;

    private readonly NemesisOptions _options;
    private readonly MeteoraClient _client;
    private readonly RunClock _clock;
    private readonly List<OpRecord> _history = [];
    private long _nextId;

    public ClientWorkload(NemesisOptions options, MeteoraClient client, RunClock clock)
    {
        _options = options;
        _client = client;
        _clock = clock;
    }

    public IReadOnlyList<OpRecord> Snapshot()
    {
        lock (_history) return [.. _history];
    }

    public int Count
    {
        get { lock (_history) return _history.Count; }
    }

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, _options.Clients).Select(c => Task.Run(() => ClientLoopAsync(c, stop))));

    private async Task ClientLoopAsync(int client, CancellationToken stop)
    {
        var random = new Random(unchecked((int)_options.Seed * 31 + client));
        int sequence = 0;
        while (!stop.IsCancellationRequested && Count < MaxOperations)
        {
            int coordinator = random.Next(_options.Nodes);
            string key = "k" + random.Next(_options.Keys);
            int consistency = random.Next(1, _options.ReplicationFactor + 1);
            int roll = random.Next(100);
            ClientOperation operation = roll < 50 ? ClientOperation.Get : roll < 85 ? ClientOperation.Set : ClientOperation.Delete;
            byte[]? value = operation == ClientOperation.Set ? Encoding.UTF8.GetBytes($"c{client}-{sequence++}") : null;
            // Half strict (primaryRead/primaryWrite: the freshness check's operations), half sloppy (fallbacks count).
            bool primaryOnly = random.Next(2) == 0;
            OpRecord op = await ExecuteAsync(client, coordinator, operation, key, value, consistency, primaryOnly, quiescence: false);
            bool failed = op.Status is not (ClientStatus.Ok or ClientStatus.NotFound);
            try
            {
                await Task.Delay(random.Next(MaxThinkMs + 1) + (failed ? FailureBackoffMs : 0), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>After healing and repair: one read of every written key at R=N (the liveness check's operations).</summary>
    public async Task QuiescenceReadsAsync(IEnumerable<string> keys)
    {
        int i = 0;
        foreach (string key in keys)
        {
            await ExecuteAsync(-1, i++ % _options.Nodes, ClientOperation.Get, key, null, _options.ReplicationFactor, primaryOnly: true, quiescence: true);
        }
    }

    private async Task<OpRecord> ExecuteAsync(int client, int coordinator, ClientOperation operation, string key, byte[]? value, int consistency,
        bool primaryOnly, bool quiescence)
    {
        var op = OpRecord.Invoked(Interlocked.Increment(ref _nextId), client, coordinator, operation, key, value, consistency,
            _clock.NowMicros, _clock.EpochMicros, quiescence);
        op.PrimaryOnly = primaryOnly;
        lock (_history) _history.Add(op);
        await _client.ExecuteAsync(op);
        return op;
    }
}
