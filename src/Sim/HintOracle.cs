using Meteora.Checking;
using Meteora.Engine.Handoff;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>
/// Watches hinted handoff for its rules, at the instant they could break: a fallback deletes a hint only
/// after the node it replayed it to acked it (durability of that ack is the <see cref="AckOracle"/>'s
/// job), or once the hint is past its window (dropped, and counted as a lost copy); and a node's hints
/// never exceed its bounds. It also remembers which hint copies were lost (dropped, or discarded as
/// obsolete by their owner), so the durability check can excuse writes whose only copies those were.
/// </summary>
internal sealed class HintOracle(SimCluster cluster)
{
    private const int MaxReported = 5;

    private readonly Dictionary<(int Fallback, long RequestId), (string Key, WriteVersion Version, int Destination)> _replays = new();
    private readonly Dictionary<(int Fallback, string Key, WriteVersion Version), int> _acked = new();
    private readonly HashSet<(int Fallback, string Key, WriteVersion Version)> _dropped = new();
    private readonly HashSet<(string Key, WriteVersion Version)> _obsolete = new();
    private readonly List<Violation> _violations = [];
    private int _violationCount;

    public IReadOnlyList<Violation> Violations => _violationCount <= MaxReported
        ? _violations
        : [.. _violations, new Violation(ViolationKind.Handoff, $"... and {_violationCount - MaxReported} more hinted-handoff violations", [], [])];

    private int _stored;
    private int _delivered;

    /// <summary>Hints stored, delivered, dropped past their window, and writes whose replayed hint the owner found obsolete.</summary>
    public HintFigures Figures => new(_stored, _delivered, _dropped.Count, _obsolete.Count);

    public void OnSend(int from, int to, Message message)
    {
        switch (message)
        {
            case HintReplay replay:
                _replays[(from, replay.RequestId)] = (replay.Key, replay.Version, to);
                break;
            case HintReplayAck { Ok: true } ack:
                if (_replays.Remove((to, ack.RequestId), out var sent) && sent.Destination == from)
                {
                    var copy = (to, sent.Key, sent.Version);
                    _acked[copy] = _acked.GetValueOrDefault(copy) + 1;
                }
                break;
        }
    }

    /// <summary>The owner acked a replayed hint without storing it (older than the tombstone grace period, key absent).</summary>
    public void OnObsolete(string key, WriteVersion version) => _obsolete.Add((key, version));

    /// <summary>The fallback's copy of this write is gone without reaching a replica.</summary>
    /// <summary>True once any hint was dropped or found obsolete (<see cref="Lost"/> is false for all until then).</summary>
    public bool AnyLost => _dropped.Count > 0 || _obsolete.Count > 0;

    public bool Lost(int fallback, string key, WriteVersion version) =>
        _dropped.Contains((fallback, key, version)) || _obsolete.Contains((key, version));

    public void OnHintWritten(int node, Hint hint, long bytesForTarget, long bytesTotal, HintOptions bounds)
    {
        _stored++;
        if (bytesForTarget > bounds.MaxBytesPerTarget || bytesTotal > bounds.MaxBytesTotal)
        {
            Report(new Violation(ViolationKind.Handoff,
                $"handoff: node{node} holds {bytesForTarget} hint bytes for node{hint.Target} and {bytesTotal} in all, over its bounds ({bounds.MaxBytesPerTarget} per target, {bounds.MaxBytesTotal} in all)",
                [], [node, hint.Target]) { Key = hint.Key });
        }
    }

    public void OnHintDeleted(int node, Hint hint, long nodeNowMicros, HintOptions options)
    {
        var copy = (node, hint.Key, hint.Version);
        if (_acked.TryGetValue(copy, out int acks))
        {
            if (acks == 1) _acked.Remove(copy);
            else _acked[copy] = acks - 1;
            _delivered++;
            return;
        }
        if (nodeNowMicros - hint.StoredAtMicros >= options.WindowMs * 1000)
        {
            _dropped.Add(copy);
            return;
        }
        Report(new Violation(ViolationKind.Handoff,
            $"handoff: node{node} deleted its hint of {hint.Key} v={hint.Version} for node{hint.Target} at {(cluster.NowMicros - SimCluster.EpochMicros) / 1000.0:F3}ms before any owner acked it durably",
            [], [node, hint.Target]) { Key = hint.Key });
    }

    private void Report(Violation violation)
    {
        _violationCount++;
        if (_violations.Count < MaxReported) _violations.Add(violation);
    }
}
