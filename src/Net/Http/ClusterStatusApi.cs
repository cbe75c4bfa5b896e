using Meteora.Engine.Membership;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Net.Hosting;
using Microsoft.AspNetCore.Http;

namespace Meteora.Net.Http;

/// <summary>
/// <c>GET /meteora/status</c>: what <c>nodetool status</c> shows, from this node's point of view: one row
/// per ring member with up/down (this node's failure detector), its status, the keys, bytes and partitions
/// it reported holding and the ring version it reported (heartbeats carry them), and the partitions it
/// owns and replicates in this node's ring. A member that reports another ring version is flagged: the
/// ring has not converged yet (or that member is partitioned away).
/// </summary>
internal static class ClusterStatusApi
{
    public const string Path = "/meteora/status";

    internal static async Task StatusAsync(HttpContext context)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        (PeerLiveness[] Peers, Heartbeat Self)? seen = await StatusApi.BrieflyAsync(runtime, context,
            node => ((PeerLiveness[], Heartbeat)?)(node.PeerLiveness(), node.SelfReport()));
        if (runtime.Ring is not { } ring)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, $"node {runtime.Config.NodeId} is joining and has not received the ring yet");
            return;
        }
        if (seen is null)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, $"node {runtime.Config.NodeId} did not answer within {MeteoraHttpApi.MetricsLoopWaitMs} ms");
            return;
        }
        ReplicaPlacement placement = ring.CurrentPlacement;
        ReplicaLoad load = placement.ReplicaLoad();
        var rows = new StatusMember[ring.Members.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            Member member = ring.Members[i];
            bool self = member.NodeId == runtime.Config.NodeId;
            Heartbeat? report = self ? seen.Value.Self : Report(seen.Value.Peers, member.NodeId);
            int loadIndex = Array.IndexOf(load.Nodes, member.NodeId);
            long? version = report?.RingVersion;
            rows[i] = new StatusMember(member.NodeId, member.PeerAddress, StatusApi.IsUp(runtime, seen.Value.Peers, member.NodeId),
                StatusApi.StatusName(member.Status), State(StatusApi.IsUp(runtime, seen.Value.Peers, member.NodeId), member.Status),
                report?.KeysHeld, report?.BytesHeld, placement.Layout.Contains(member.NodeId) ? placement.Layout.PartitionsOwnedBy(member.NodeId) : 0,
                loadIndex < 0 ? 0 : load.PartitionsReplicated[loadIndex], report?.PartitionsHeld, report?.HintsPending, version,
                version is { } v && v != ring.Version, self);
        }
        await JsonReplies.Write(context, StatusCodes.Status200OK,
            new StatusResponse(runtime.Config.NodeId, ring.Version, ring.Claimant, ring.Change?.ToString(), ring.PendingTransfers().Count, rows),
            ApiJsonContext.Api.StatusResponse);
    }

    private static Heartbeat? Report(PeerLiveness[] peers, int node)
    {
        int index = Array.FindIndex(peers, p => p.Node == node);
        return index < 0 ? null : peers[index].Report;
    }

    /// <summary>nodetool's two letters: U(p) or D(own) — ? when unknown — then N(ormal), J(oining) or L(eaving).</summary>
    internal static string State(bool? up, MemberStatus status) =>
        $"{(up is null ? '?' : up.Value ? 'U' : 'D')}{status switch { MemberStatus.Joining => 'J', MemberStatus.Leaving => 'L', _ => 'N' }}";
}
