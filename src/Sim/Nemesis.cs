namespace Meteora.Sim;

/// <summary>
/// Applies the schedule's faults at their times and undoes them after their durations; at the end of
/// the workload, heals everything at once (and ignores any fault still to come).
/// </summary>
internal sealed class Nemesis
{
    private readonly SimCluster _cluster;
    private readonly IReadOnlyList<Fault> _faults;
    private readonly int[,] _blockedLinks;
    private readonly List<LinkFault> _lossy = [];
    private readonly List<DiskFault>[] _disk;
    private readonly bool[] _applied;
    private readonly int[]?[] _crashedBy;

    public Nemesis(SimCluster cluster, IReadOnlyList<Fault> faults)
    {
        _cluster = cluster;
        _faults = faults;
        int nodes = cluster.Options.TotalNodes;
        _blockedLinks = new int[nodes, nodes];
        _disk = new List<DiskFault>[nodes];
        for (int i = 0; i < nodes; i++) _disk[i] = [];
        _applied = new bool[faults.Count];
        _crashedBy = new int[]?[faults.Count];
    }

    public bool Healed { get; private set; }

    public void Start()
    {
        for (int i = 0; i < _faults.Count; i++)
        {
            _cluster.Enqueue(SimCluster.EpochMicros + _faults[i].AtMs * 1000,
                new SimEvent { Kind = SimEventKind.FaultStart, Node = -1, Id = i });
        }
    }

    public bool LinkOpen(int from, int to) => _blockedLinks[from, to] == 0;

    public LinkFault? ActiveLinkFault => _lossy.Count == 0 ? null : _lossy[^1];

    public DiskFault? ActiveDiskFault(int node) => _disk[node].Count == 0 ? null : _disk[node][^1];

    public void OnFaultStart(int index)
    {
        if (Healed) return;
        Fault fault = _faults[index];
        if (_cluster.Tracing) _cluster.Trace($"nemesis: {fault}");
        long endMicros = -1;
        switch (fault)
        {
            case PartitionFault p:
                SetBlocked(p, +1);
                endMicros = p.DurationMs;
                Record(index, "partition", p.Nodes());
                break;
            case CrashFault c:
                // A node already down is left to the fault that crashed it.
                var victims = new List<int>();
                foreach (int node in c.CrashedNodes)
                {
                    if (_cluster.Nodes[node].Up) victims.Add(node);
                }
                if (victims.Count == 0) return;
                foreach (int node in victims) _cluster.Nodes[node].Crash();
                _crashedBy[index] = [.. victims];
                endMicros = c.DownMs;
                Record(index, "crash", victims);
                break;
            case LinkFault l:
                _lossy.Add(l);
                endMicros = l.DurationMs;
                Record(index, "lossy", AllNodes());
                break;
            case DiskFault d:
                _disk[d.Node].Add(d);
                endMicros = d.DurationMs;
                Record(index, "disk", [d.Node]);
                break;
            case ClockFault k:
                _cluster.Nodes[k.Node].Clock.Apply(k);
                _cluster.Timeline?.OnFaultStart(index, "clock", k, [k.Node], _cluster.NowMicros, instant: true);
                return;
            case JoinFault j:
                if (!_cluster.Nodes[j.Node].NotStarted) return;
                _cluster.Nodes[j.Node].StartJoin(j.Seed);
                _cluster.Timeline?.OnFaultStart(index, "join", j, [j.Node], _cluster.NowMicros, instant: true);
                return;
            case LeaveFault l:
                _cluster.Operator.Request(l.Node, new Meteora.Engine.Membership.RingChange(Meteora.Engine.Membership.RingChangeKind.Leave, l.Node));
                _cluster.Timeline?.OnFaultStart(index, "leave", l, [l.Node], _cluster.NowMicros, instant: true);
                return;
            case RemoveFault r:
                if (_cluster.Nodes[r.Node].NotStarted || _cluster.Nodes[r.Node].Retired) return;
                _cluster.Nodes[r.Node].Retire();
                _cluster.RemovedNodes.Add(r.Node);
                _cluster.Operator.Request(r.Via, new Meteora.Engine.Membership.RingChange(Meteora.Engine.Membership.RingChangeKind.Remove, r.Node));
                _cluster.Timeline?.OnFaultStart(index, "remove", r, [r.Node], _cluster.NowMicros, instant: true);
                return;
        }
        _applied[index] = true;
        _cluster.Enqueue(_cluster.NowMicros + endMicros * 1000, new SimEvent { Kind = SimEventKind.FaultEnd, Node = -1, Id = index });
    }

    public void OnFaultEnd(int index)
    {
        if (Healed || !_applied[index]) return;
        _applied[index] = false;
        Fault fault = _faults[index];
        if (_cluster.Tracing) _cluster.Trace($"nemesis: end of {fault}");
        _cluster.Timeline?.OnFaultEnd(index, _cluster.NowMicros);
        switch (fault)
        {
            case PartitionFault p:
                SetBlocked(p, -1);
                break;
            case CrashFault:
                foreach (int node in _crashedBy[index]!)
                {
                    if (!_cluster.Nodes[node].Retired) _cluster.Nodes[node].Restart();
                }
                break;
            case LinkFault l:
                _lossy.Remove(l);
                break;
            case DiskFault d:
                _disk[d.Node].Remove(d);
                break;
        }
    }

    /// <summary>Ends every fault: links open, disks healthy, crashed nodes restarted from disk.</summary>
    public void HealAll()
    {
        Healed = true;
        if (_cluster.Tracing) _cluster.Trace("nemesis: heal everything");
        _cluster.Timeline?.OnHealAll(_cluster.NowMicros);
        Array.Clear(_blockedLinks);
        _lossy.Clear();
        foreach (var list in _disk) list.Clear();
        foreach (SimNode node in _cluster.Nodes)
        {
            if (!node.Up && !node.Retired && !node.NotStarted) node.Restart();
        }
    }

    private void Record(int index, string kind, IEnumerable<int> nodes) =>
        _cluster.Timeline?.OnFaultStart(index, kind, _faults[index], [.. nodes], _cluster.NowMicros, instant: false);

    private int[] AllNodes()
    {
        var all = new int[_cluster.Nodes.Length];
        for (int i = 0; i < all.Length; i++) all[i] = i;
        return all;
    }

    private void SetBlocked(PartitionFault p, int delta)
    {
        foreach (int a in p.SideA)
        {
            foreach (int b in p.SideB)
            {
                _blockedLinks[a, b] += delta;
                if (!p.OneWay) _blockedLinks[b, a] += delta;
            }
        }
    }
}
