using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Net.Hosting;
using Meteora.Net.Transport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Http;

/// <summary>
/// What a node says about itself and its cluster: <c>/meteora/ring</c>, <c>/meteora/health</c> and the
/// JSON <c>/meteora/metrics</c>. Figures owned by the event loop are asked for briefly
/// (<see cref="MeteoraHttpApi.MetricsLoopWaitMs"/>): a stuck loop must not hang these pages, so they
/// then report what needs no loop.
/// </summary>
internal static class StatusApi
{
    /// <summary>
    /// <c>GET /meteora/ring</c>: the ring this node holds now (its current layout serves reads and
    /// quorums), each member's status and whether the failure detector thinks it is up, the ring
    /// version, the claimant, and the change in progress with its pending transfers. A joining node that
    /// has not received the ring yet answers 503.
    /// </summary>
    internal static async Task RingAsync(HttpContext context)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        PeerLiveness[]? liveness = await BrieflyAsync(runtime, context, node => node.PeerLiveness());
        if (runtime.Ring is not { } state)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, $"node {runtime.Config.NodeId} is joining and has not received the ring yet");
            return;
        }
        ReplicaPlacement placement = state.CurrentPlacement;
        RingLayout layout = placement.Layout;
        var ring = new RingPartition[placement.PartitionCount];
        for (int p = 0; p < ring.Length; p++)
        {
            ring[p] = new RingPartition(p, layout.OwnerOf(p), placement.PreferenceList(p).ToArray(), state.PendingReplicas(p));
        }
        ReplicaLoad load = placement.ReplicaLoad();
        var loads = new RingNodeLoad[load.Nodes.Length];
        for (int i = 0; i < loads.Length; i++)
        {
            loads[i] = new RingNodeLoad(load.Nodes[i], layout.PartitionsOwnedBy(load.Nodes[i]), load.PartitionsReplicated[i]);
        }
        RingMember[] members = Array.ConvertAll([.. state.Members],
            m => new RingMember(m.NodeId, m.PeerAddress, StatusName(m.Status), IsUp(runtime, liveness, m.NodeId)));
        await JsonReplies.Write(context, StatusCodes.Status200OK,
            new RingResponse(placement.PartitionCount, placement.ReplicationFactor, layout.Nodes.ToArray(), loads, load.Imbalance, ring,
                state.Version, state.Claimant, members, state.Change?.ToString(), state.PendingTransfers().Count),
            ApiJsonContext.Api.RingResponse);
    }

    internal static string StatusName(MemberStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>Up as the failure detector sees it (this node is up to itself); null when the loop did not answer in time.</summary>
    internal static bool? IsUp(NodeRuntime runtime, PeerLiveness[]? liveness, int node)
    {
        if (node == runtime.Config.NodeId) return true;
        if (liveness is null) return null;
        int index = Array.FindIndex(liveness, p => p.Node == node);
        return index >= 0 && liveness[index].Up;
    }

    /// <summary>
    /// A peer is up when its link is connected and the failure detector does not suspect it (phi at or
    /// under the threshold). Phi is null when the event loop did not answer in time.
    /// </summary>
    internal static async Task HealthAsync(HttpContext context)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        PeerLiveness[]? liveness = await BrieflyAsync(runtime, context, node => node.PeerLiveness());
        // Links of nodes that left the ring are kept (handoffs need them) but are no longer peers to report.
        RingState? ring = runtime.Ring;
        PeerLink[] links = [.. runtime.Transport.Links.Where(l => ring is null || ring.MemberOf(l.Endpoint.NodeId) is not null)];
        var peers = new PeerHealth[links.Length];
        var up = new List<int>();
        var down = new List<int>();
        for (int i = 0; i < links.Length; i++)
        {
            PeerLink link = links[i];
            PeerLiveness? seen = liveness is null ? null : Array.Find(liveness, p => p.Node == link.Endpoint.NodeId);
            bool isUp = link.State == PeerLinkState.Up && (seen is not { } s || s.Up);
            (isUp ? up : down).Add(link.Endpoint.NodeId);
            peers[i] = new PeerHealth(link.Endpoint.NodeId, $"{link.Endpoint.Host}:{link.Endpoint.Port}", link.State.ToString().ToLowerInvariant(),
                isUp, seen is { } p ? Math.Round(p.Phi, 3) : null, link.StateChangedUnixMs, link.SentFrames, link.DroppedFrames, link.QueuedFrames);
        }
        long uptimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - runtime.StartedUnixMs;
        string status = runtime.Storage.IsFaulted ? "failed" : runtime.Storage.Guard.Refusal() is not null ? "disk-full" : "ok";
        await JsonReplies.Write(context, StatusCodes.Status200OK,
            new HealthResponse(runtime.Config.NodeId, status, uptimeMs, runtime.Config.FailureDetector.PhiThreshold, [.. up], [.. down], peers),
            ApiJsonContext.Api.HealthResponse);
    }


    internal static async Task MetricsAsync(HttpContext context)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        RepairOptions repairOptions = runtime.Config.Repair;
        (RepairStatus? Running, long Purged, HintMetrics Hints)? loop = await BrieflyAsync(runtime, context,
            node => ((RepairStatus? Running, long Purged, HintMetrics Hints)?)(node.RunningRepair, node.TombstonesPurged, HintMetrics.From(node.HintStats(), node.Counters)));
        PeerInboundStats inbound = context.RequestServices.GetRequiredService<PeerInboundContext>().Stats;
        long sent = 0, dropped = 0;
        foreach (PeerLink link in runtime.Transport.Links)
        {
            sent += link.SentFrames;
            dropped += link.DroppedFrames;
        }
        var repairMetrics = new RepairMetrics(repairOptions.MerkleDepth, repairOptions.AntiEntropyIntervalMs, repairOptions.TombstoneGraceMs,
            loop?.Purged, loop?.Running is { } running ? RepairStatusResponse.From(running) : null);
        await JsonReplies.Write(context, StatusCodes.Status200OK,
            new MetricsResponse(runtime.Config.NodeId, runtime.Loop.EventsRun, runtime.Storage.CompletedCount, runtime.Storage.SyncCount,
                inbound.FramesReceived, inbound.ConnectionsAccepted, inbound.ConnectionsRejected, sent, dropped,
                runtime.Transport.SendFailuresReported, inbound.AuthenticationFailures,
                context.RequestServices.GetRequiredService<HttpConnectionLimit>().Refused, repairMetrics, loop?.Hints),
            ApiJsonContext.Api.MetricsResponse);
    }

    /// <summary>Runs <paramref name="call"/> on the loop; default when it does not answer within the wait.</summary>
    internal static async Task<T?> BrieflyAsync<T>(NodeRuntime runtime, HttpContext context, Func<MeteoraNode, T> call)
    {
        try
        {
            return await runtime.Loop.CallAsync(call, context.RequestAborted)
                .WaitAsync(TimeSpan.FromMilliseconds(MeteoraHttpApi.MetricsLoopWaitMs), context.RequestAborted);
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException)
        {
            return default;
        }
    }
}
