using System.Net;
using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Ring;

namespace Meteora.Nemesis;

/// <summary>
/// One run: network and nodes up, clients and faults together for the duration, then heal
/// everything, repair, snapshot every replica, read every key at R=N, and hand the history and the
/// snapshot to the shared checker (the simulator's own <see cref="Checker"/>).
/// </summary>
internal sealed class NemesisRun
{
    public const int NodeRequestTimeoutMs = 1_000;

    /// <summary>Q, passed to every node and used for the harness's own placement.</summary>
    public const int Partitions = 64;

    public const int StartupTimeoutMs = 60_000;
    public const int HealTimeoutMs = 60_000;

    /// <summary>After healing, every node must have delivered (or dropped) its hints within this long.</summary>
    public const int HintsDrainTimeoutMs = 60_000;
    public const int RepairTimeoutMs = 120_000;
    public const int MaxRepairRounds = 3;

    /// <summary>Liveness bound for a read after healing: the node's request timeout plus HTTP and scheduling slack on a busy 2-core machine.</summary>
    public const long LivenessBoundMs = NodeRequestTimeoutMs + 2_000;

    private readonly NemesisOptions _options;
    private readonly string _runDir;
    private readonly RunClock _clock = new();
    private readonly StreamWriter _log;
    private readonly List<NodeProcess> _nodes = [];
    private readonly List<Violation> _harnessViolations = [];

    public NemesisRun(NemesisOptions options, string runDir)
    {
        _options = options;
        _runDir = runDir;
        _log = new StreamWriter(Path.Combine(runDir, "nemesis.log")) { AutoFlush = true };
    }

    public void Log(string line)
    {
        string stamped = $"[{_clock.ElapsedMs / 1000.0,7:F1}s] {line}";
        Console.WriteLine(stamped);
        lock (_log) _log.WriteLine(stamped);
    }

    public async Task<RunReport> ExecuteAsync()
    {
        var lab = new NetworkLab(_options.Nodes);
        lab.Create();
        for (int i = 0; i < _options.Nodes; i++) _nodes.Add(new NodeProcess(i, _options, _runDir));
        foreach (NodeProcess node in _nodes) node.Prepare();
        using var client = new MeteoraClient([.. _nodes.Select(n => n.BaseUrl)], _clock);
        try
        {
            foreach (NodeProcess node in _nodes) node.Start();
            Log($"{_options.Nodes} nodes starting on {NetworkLab.Subnet}.1..{_options.Nodes} (logs in {_runDir})");
            await WaitHealthyAsync(client, StartupTimeoutMs, "at startup");
            return await RunPhasesAsync(lab, client);
        }
        finally
        {
            foreach (NodeProcess node in _nodes) node.Stop();
            foreach (NodeProcess node in _nodes) node.Unmount();
        }
    }

    private async Task<RunReport> RunPhasesAsync(NetworkLab lab, MeteoraClient client)
    {
        IReadOnlyList<FaultStep> plan = FaultPlan.Generate(_options.Seed, _options.Nodes, _options.DurationS * 1000L, _options.Faults);
        Log($"fault plan: {plan.Count} faults ({string.Join(", ", plan.GroupBy(s => s.Kind).Select(g => $"{g.Count()} {FaultKinds.Name(g.Key)}"))})");
        var workload = new ClientWorkload(_options, client, _clock);
        var injector = new FaultInjector(lab, _nodes, _clock, Log);
        using var stop = new CancellationTokenSource();
        long startMs = _clock.ElapsedMs;
        Task clients = workload.RunAsync(stop.Token);
        Task faults = injector.RunAsync(plan, startMs, stop.Token);
        Task monitor = MonitorAsync(workload, stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(_options.DurationS));
        stop.Cancel();
        await Task.WhenAll(clients, faults, monitor);
        Log($"workload done: {workload.Count} operations; healing everything");

        injector.HealEverything();
        await WaitHealthyAsync(client, HealTimeoutMs, "after healing");
        // libfaketime re-reads the offset file once a second: let every clock be true again.
        await Task.Delay(1_500);
        // A sloppy write acked only by fallbacks lives in their hints until replayed: check the replicas after that.
        await WaitHintsDeliveredAsync(client);

        IReadOnlyList<OpRecord> ops = workload.Snapshot();
        SortedSet<string> keys = Checker.WrittenKeys(ops);
        var placement = new ReplicaPlacement(RingLayout.Create(Partitions, Enumerable.Range(0, _options.Nodes)), _options.ReplicationFactor);
        var violations = new List<Violation>();
        (SnapshotReplicaView view, bool converged) = await RepairUntilConvergedAsync(client, placement, keys, ops, violations);
        Checker.CheckDurability(ops, view, new PurgeLog(), _clock.NowMicros, violations);
        Checker.CheckConvergence(ops, view, violations);

        Log($"liveness: reading {keys.Count} keys at R={_options.ReplicationFactor}");
        await workload.QuiescenceReadsAsync(keys);
        ops = workload.Snapshot();
        Checker.CheckCompletion(ops, violations);
        Checker.CheckNoInventedData(ops, violations);
        Checker.CheckFreshness(ops, _options.ReplicationFactor, new PurgeLog(), violations);
        Checker.CheckLiveness(ops, LivenessBoundMs, violations);
        if (_options.Faults.Count == 0) Checker.CheckFaultFreeSuccess(ops, violations);
        AddNodeErrors(client, violations);
        lock (_harnessViolations) violations.AddRange(_harnessViolations);
        HistoryFile.Write(Path.Combine(_runDir, "history.jsonl"), ops);
        return RunReport.From(_options, ops, violations, Checker.CountSkewDiscardedWrites(ops), converged, injector.Applied, _runDir);
    }

    /// <summary>Repair jobs on every node until the replicas of every written key agree (or the rounds run out).</summary>
    private async Task<(SnapshotReplicaView View, bool Converged)> RepairUntilConvergedAsync(
        MeteoraClient client, ReplicaPlacement placement, SortedSet<string> keys, IReadOnlyList<OpRecord> ops, List<Violation> violations)
    {
        SnapshotReplicaView view = null!;
        List<string> unreadable = [];
        for (int round = 1; round <= MaxRepairRounds; round++)
        {
            foreach (NodeProcess node in _nodes) await RepairAsync(client, node);
            (view, unreadable) = await ReplicaSnapshot.TakeAsync(client, _nodes, placement, keys);
            var differences = new List<Violation>();
            Checker.CheckConvergence(ops, view, differences);
            Log($"repair round {round}: {keys.Count} keys, {differences.Sum(v => v.Count)} disagree, {unreadable.Count} replica reads failed");
            if (differences.Count == 0 && unreadable.Count == 0) return (view, true);
        }
        foreach (string failure in unreadable.Take(Checker.MaxReportedPerCheck))
        {
            violations.Add(new Violation(ViolationKind.Harness, $"harness: after healing and repair, cannot read replica {failure}", [], []));
        }
        return (view, false);
    }

    private async Task RepairAsync(MeteoraClient client, NodeProcess node)
    {
        long deadline = _clock.ElapsedMs + RepairTimeoutMs;
        string? id = null;
        while (id is null && _clock.ElapsedMs < deadline)
        {
            (HttpStatusCode status, JsonElement body) = await TryJsonAsync(client, $"{node.BaseUrl}/meteora/repair", HttpMethod.Post);
            if (status is HttpStatusCode.Accepted or HttpStatusCode.Conflict) id = body.GetProperty("repairId").GetString();
            else await Task.Delay(500);
        }
        while (id is not null && _clock.ElapsedMs < deadline)
        {
            (HttpStatusCode status, JsonElement body) = await TryJsonAsync(client, $"{node.BaseUrl}/meteora/repair/{id}", HttpMethod.Get);
            if (status == HttpStatusCode.OK && body.GetProperty("state").GetString() is "done" or "failed")
            {
                Log($"repair on node{node.Id}: {body.GetProperty("state").GetString()}, {body.GetProperty("keysRepaired").GetInt64()} keys repaired");
                return;
            }
            await Task.Delay(200);
        }
        Log($"repair on node{node.Id} did not finish within {RepairTimeoutMs} ms");
    }

    private static async Task<(HttpStatusCode, JsonElement)> TryJsonAsync(MeteoraClient client, string url, HttpMethod method)
    {
        try
        {
            return await client.GetJsonAsync(url, 5_000, method);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            return (0, default);
        }
    }

    /// <summary>Waits until no node reports pending hints; past the bound, each node still holding some is a handoff violation.</summary>
    private async Task WaitHintsDeliveredAsync(MeteoraClient client)
    {
        long deadline = _clock.ElapsedMs + HintsDrainTimeoutMs;
        while (true)
        {
            var holding = new List<string>();
            foreach (NodeProcess node in _nodes)
            {
                (HttpStatusCode status, JsonElement body) = await TryJsonAsync(client, $"{node.BaseUrl}/meteora/metrics", HttpMethod.Get);
                bool known = status == HttpStatusCode.OK && body.TryGetProperty("hints", out JsonElement hints) && hints.ValueKind == JsonValueKind.Object;
                long pending = known ? body.GetProperty("hints").GetProperty("pending").GetInt64() : -1;
                if (pending != 0) holding.Add(known ? $"node{node.Id} holds {pending} hints" : $"node{node.Id} did not report its hints");
            }
            if (holding.Count == 0)
            {
                Log("hints: every node has delivered its hints");
                return;
            }
            if (_clock.ElapsedMs > deadline)
            {
                lock (_harnessViolations)
                {
                    _harnessViolations.Add(new Violation(ViolationKind.Handoff, $"handoff: {HintsDrainTimeoutMs} ms after healing, {string.Join(", ", holding)}", [], []));
                }
                return;
            }
            await Task.Delay(250);
        }
    }

    /// <summary>Every node answers health with status ok and sees every peer up.</summary>
    private async Task WaitHealthyAsync(MeteoraClient client, int timeoutMs, string when)
    {
        long deadline = _clock.ElapsedMs + timeoutMs;
        var pending = new SortedSet<int>(Enumerable.Range(0, _options.Nodes));
        while (pending.Count > 0 && _clock.ElapsedMs < deadline)
        {
            foreach (int node in pending.ToList())
            {
                (HttpStatusCode status, JsonElement body) = await TryJsonAsync(client, $"{_nodes[node].BaseUrl}/meteora/health", HttpMethod.Get);
                if (status == HttpStatusCode.OK && body.GetProperty("status").GetString() == "ok" && body.GetProperty("down").GetArrayLength() == 0)
                {
                    pending.Remove(node);
                }
            }
            if (pending.Count > 0) await Task.Delay(250);
        }
        if (pending.Count > 0)
        {
            string nodes = string.Join(", ", pending.Select(n => $"node{n}"));
            if (when == "at startup") throw new EnvironmentException($"{nodes} not healthy {timeoutMs} ms after start (see {_runDir})");
            lock (_harnessViolations)
            {
                _harnessViolations.Add(new Violation(ViolationKind.Liveness,
                    $"liveness: {nodes} not healthy with every peer up {timeoutMs} ms {when}", [], [.. pending]));
            }
        }
        else
        {
            Log($"all {_options.Nodes} nodes healthy {when}");
        }
    }

    /// <summary>Progress every 5 s, and any node that dies without the nemesis killing it (a crash is a finding, not a fault).</summary>
    private async Task MonitorAsync(ClientWorkload workload, CancellationToken stop)
    {
        int lastCount = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(5_000, stop);
            }
            catch (OperationCanceledException)
            {
            }
            int count = workload.Count;
            Log($"{count} operations ({(count - lastCount) / 5} per s)");
            lastCount = count;
            foreach (NodeProcess node in _nodes)
            {
                if (!node.ShouldRun || !node.HasExited) continue;
                lock (_harnessViolations)
                {
                    _harnessViolations.Add(new Violation(ViolationKind.Harness,
                        $"harness: node{node.Id} exited on its own with code {node.ExitCode} (incarnation {node.Incarnation}; see node{node.Id}.log)", [], [node.Id]));
                }
                Log($"node{node.Id} exited on its own (code {node.ExitCode}); restarting it");
                node.Start();
            }
        }
    }

    private static void AddNodeErrors(MeteoraClient client, List<Violation> violations)
    {
        var found = client.NodeErrors.Select(e => new Violation(ViolationKind.Harness, $"harness: unexpected answer: {e}", [], [])).ToList();
        Checker.Report(found, violations);
    }
}
