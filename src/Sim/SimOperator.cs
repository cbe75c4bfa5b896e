using Meteora.Engine.Membership;

namespace Meteora.Sim;

/// <summary>
/// The simulated operator of membership faults: asks a node for a ring change (as `meteora leave` or
/// `meteora remove` would) and asks again every <see cref="RetryMs"/> while the refusal is one an
/// operator would retry (another change runs, the claimant is unreachable, the dead node is not yet
/// suspected), up to <see cref="MaxAttempts"/> times. A final refusal (too few nodes would remain) ends it.
/// </summary>
internal sealed class SimOperator(SimCluster cluster)
{
    public const long RetryMs = 250;
    public const int MaxAttempts = 400;

    private readonly List<Action> _actions = [];
    private bool _scheduled;

    public int Pending => _actions.Count;
    public int Accepted { get; private set; }
    public int Refused { get; private set; }

    public void Request(int via, RingChange change)
    {
        _actions.Add(new Action(via, change));
        Schedule(0);
    }

    /// <summary>One operator round: poll answers, retry refusals, send new requests.</summary>
    public void OnTick()
    {
        _scheduled = false;
        foreach (Action action in _actions.ToArray()) Step(action);
        if (_actions.Count > 0) Schedule(RetryMs * 1000);
    }

    private void Step(Action action)
    {
        SimNode node = cluster.Nodes[action.Via];
        if (action.Ticket is { } ticket && node.Up && node.Incarnation == action.Incarnation)
        {
            if (node.Engine.RingChangeOutcome(ticket) is not { } outcome) return; // still waiting for the claimant
            action.Ticket = null;
            if (cluster.Tracing) cluster.Trace($"operator: {action.Change} via node{action.Via}: {(outcome.Ok ? "accepted" : "refused: " + outcome.Error)}");
            if (outcome.Ok || Final(outcome))
            {
                if (outcome.Ok) Accepted++;
                else Refused++;
                _actions.Remove(action);
                return;
            }
        }
        action.Ticket = null;
        if (++action.Attempts > MaxAttempts)
        {
            Refused++;
            _actions.Remove(action);
            return;
        }
        int via = node.Up ? action.Via : cluster.AnyUpMember(action.Change.Node);
        if (via < 0) return;
        action.Via = via;
        SimNode asked = cluster.Nodes[via];
        action.Incarnation = asked.Incarnation;
        action.Ticket = asked.Engine.RequestRingChange(action.Change);
        cluster.CheckInvariants(via);
    }

    /// <summary>Refusals no retry can change: the ring is too small, the node is not (or no longer) a member.</summary>
    private static bool Final(RingChangeOutcome outcome) =>
        outcome.Error is { } e && (e.Contains("would remain", StringComparison.Ordinal) || e.Contains("is not a normal member", StringComparison.Ordinal));

    private void Schedule(long delayMicros)
    {
        if (_scheduled) return;
        _scheduled = true;
        cluster.Enqueue(cluster.NowMicros + delayMicros, new SimEvent { Kind = SimEventKind.OperatorTick, Node = -1 });
    }

    private sealed class Action(int via, RingChange change)
    {
        public int Via { get; set; } = via;
        public RingChange Change { get; } = change;
        public long? Ticket { get; set; }
        public int Incarnation { get; set; }
        public int Attempts { get; set; }
    }
}
