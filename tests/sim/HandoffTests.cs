using System.Text;
using Meteora.Engine.Handoff;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;

namespace Meteora.Tests.Sim;

/// <summary>
/// Hinted handoff driven by hand on four nodes with N=3, so every key has exactly one fallback (the
/// fourth node): which message arrives, which disk write completes and when the clock moves is the
/// test's choice.
/// </summary>
public sealed class HandoffTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A key coordinated by node 0 (a primary), its primaries, and its fallback.</summary>
    private static (string Key, int[] Replicas, int Fallback) Key(ManualCluster cluster)
    {
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(cluster.Placement.PartitionCount);
        int fallback = Assert.Single(cluster.Placement.FallbackList(partition).ToArray());
        return (key, replicas, fallback);
    }

    /// <summary>Sends the request from node 0; the message to <paramref name="unreachable"/> never gets through.</summary>
    private static void RequestWithOneUnreachable(ManualCluster cluster, ClientRequest request, int unreachable)
    {
        cluster[0].OnClientRequest(request);
        var unsent = cluster.InFlight.First(m => m.To == unreachable);
        cluster.InFlight.Remove(unsent);
        cluster[0].OnSendFailed(unsent.To, unsent.Message);
    }

    /// <summary>The fallback hears a heartbeat from <paramref name="node"/>: its detector knows it is up.</summary>
    private static void Heartbeat(ManualCluster cluster, int node, int to) =>
        cluster[to].OnMessage(node, new Heartbeat(1, cluster[node].Ring!.Version));

    private static void FireHandoffTimers(ManualCluster cluster, int node)
    {
        var host = cluster.HostOf(node);
        var timers = host.Timers.Where(t => t.Owner == Meteora.Engine.Runtime.TimerOwner.Handoff).ToList();
        foreach (var timer in timers)
        {
            host.Timers.Remove(timer);
            host.Node.OnTimer(timer);
        }
    }

    [Fact]
    public void A_sloppy_write_counts_the_fallback_only_once_its_hint_is_durable()
    {
        var cluster = new ManualCluster(4);
        var (key, replicas, fallback) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("v"), 3), replicas[2]);
        var hinted = Assert.Single(cluster.InFlight, m => m.Message is HintedWrite);
        Assert.Equal(fallback, hinted.To);
        Assert.Equal(replicas[2], ((HintedWrite)hinted.Message).Target);

        cluster.Deliver();
        foreach (int r in replicas[..2]) cluster.HostOf(r).FlushDisk();
        cluster.Deliver(); // both primaries' acks: 2 of W=3
        Assert.Empty(cluster.Hosts[0].Results);
        Assert.Equal(0, cluster[fallback].HintStats().Stored);

        cluster.HostOf(fallback).FlushDisk();
        cluster.Deliver();
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Ok, result.Status);
        Assert.Equal(3, result.Acks);
        HintStats stats = cluster[fallback].HintStats();
        Assert.Equal((1, 1), (stats.Pending, stats.Stored));
        Assert.Equal(replicas[2], Assert.Single(stats.PerTarget).Target);
    }

    [Fact]
    public void A_strict_write_never_uses_a_fallback_and_its_503_names_the_missing_primary()
    {
        var cluster = new ManualCluster(4);
        var (key, replicas, _) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("v"), 3) with { PrimaryOnly = true }, replicas[2]);
        Assert.DoesNotContain(cluster.InFlight, m => m.Message is HintedWrite);
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Unavailable, result.Status);
        Assert.Contains($"node {replicas[2]}", result.Error);
        Assert.Contains("primary replicas only", result.Error);
    }

    [Fact]
    public void The_hint_is_replayed_when_the_target_is_heard_from_and_deleted_only_after_its_durable_ack()
    {
        var cluster = new ManualCluster(4);
        var (key, replicas, fallback) = Key(cluster);
        int target = replicas[2];
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("v"), 3), target);
        cluster.Settle();
        Assert.False(cluster.HostOf(target).Storage.TryGet(0, key, out _));

        FireHandoffTimers(cluster, fallback);
        Assert.DoesNotContain(cluster.InFlight, m => m.Message is HintReplay); // not heard from the target yet

        Heartbeat(cluster, target, fallback);
        FireHandoffTimers(cluster, fallback);
        var replay = Assert.Single(cluster.InFlight, m => m.Message is HintReplay);
        Assert.Equal(target, replay.To);
        cluster.Deliver(m => m.Message is HintReplay);
        Assert.Equal(1, cluster[fallback].HintStats().Pending); // the target has not made it durable yet

        cluster.HostOf(target).FlushDisk();
        cluster.Deliver(m => m.Message is HintReplayAck);
        HintStats stats = cluster[fallback].HintStats();
        Assert.Equal((0, 1), (stats.Pending, stats.Delivered));
        Assert.True(cluster.HostOf(target).Storage.TryGetDurable(key, out var held));
        Assert.Equal("v", Encoding.UTF8.GetString(held.Value!));
        cluster.HostOf(fallback).FlushDisk();
        Assert.Equal(0, cluster.HostOf(fallback).Storage.HintCount);
    }

    [Fact]
    public void Hints_survive_a_crash_of_the_fallback_and_a_hint_not_yet_durable_was_never_acked()
    {
        var cluster = new ManualCluster(4);
        var (key, replicas, fallback) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("durable"), 3), replicas[2]);
        cluster.Settle();
        Assert.Equal(ClientStatus.Ok, Assert.Single(cluster.Hosts[0].Results).Status);

        RequestWithOneUnreachable(cluster, ClientRequest.Set(2, key, B("lost"), 3), replicas[2]);
        cluster.Deliver(m => m.Message is HintedWrite);
        cluster.HostOf(fallback).CrashAndRestart(); // the second hint was visible, not durable
        Assert.Single(cluster.Hosts[0].Results);

        HintStats stats = cluster[fallback].HintStats();
        Assert.Equal(1, stats.Pending);
        Heartbeat(cluster, replicas[2], fallback);
        FireHandoffTimers(cluster, fallback);
        var replay = (HintReplay)Assert.Single(cluster.InFlight, m => m.Message is HintReplay).Message;
        Assert.Equal("durable", Encoding.UTF8.GetString(replay.Value!));
    }

    [Fact]
    public void A_sloppy_read_asks_the_fallback_for_its_hint_in_place_of_an_unreachable_primary()
    {
        var cluster = new ManualCluster(4);
        var (key, replicas, fallback) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("v"), 1), replicas[2]);
        cluster.Settle();

        RequestWithOneUnreachable(cluster, ClientRequest.Get(2, key, 3), replicas[2]);
        Assert.Contains(cluster.InFlight, m => m.Message is HintedRead && m.To == fallback);
        cluster.Settle();
        ClientResult read = cluster.Hosts[0].Results.Last();
        Assert.Equal(ClientStatus.Ok, read.Status);
        Assert.Equal(3, read.Acks);
        Assert.DoesNotContain(cluster.InFlight, m => m.Message is ReadRepair && m.To == fallback);
    }

    /// <summary>
    /// The rule that keeps a hint from resurrecting a deleted key: a replayed hint older than the tombstone
    /// grace period, for a key the owner does not hold, is acked (so the fallback forgets it) but not stored,
    /// because a newer tombstone may have been purged already.
    /// </summary>
    [Fact]
    public void A_hint_older_than_the_tombstone_grace_period_is_not_stored_where_the_key_is_absent()
    {
        var cluster = new ManualCluster(4, repair: new RepairOptions { AntiEntropyIntervalMs = 0, TombstoneGraceMs = 1_000 });
        var (key, replicas, fallback) = Key(cluster);
        int target = replicas[2];
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("old"), 3), target);
        cluster.Settle();

        cluster.NowMicros += 5_000_000; // past the grace period
        Heartbeat(cluster, target, fallback);
        FireHandoffTimers(cluster, fallback);
        cluster.Settle();
        Assert.False(cluster.HostOf(target).Storage.TryGet(0, key, out _));
        Assert.Equal(1, cluster[target].Counters.HintsObsolete);
        Assert.Equal((0, 1), (cluster[fallback].HintStats().Pending, cluster[fallback].HintStats().Delivered));
    }

    [Fact]
    public void A_hint_past_the_window_is_dropped_and_counted()
    {
        var cluster = new ManualCluster(4, hints: new HintOptions { WindowMs = 1_000 });
        var (key, replicas, fallback) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("v"), 3), replicas[2]);
        cluster.Settle();

        FireHandoffTimers(cluster, fallback);
        Assert.Equal(1, cluster[fallback].HintStats().Pending);
        cluster.NowMicros += 2_000_000;
        FireHandoffTimers(cluster, fallback);
        HintStats stats = cluster[fallback].HintStats();
        Assert.Equal((0, 1, 0), (stats.Pending, stats.Dropped, stats.Delivered));
        Assert.Equal(1, Assert.Single(stats.PerTarget).Dropped);
        cluster.HostOf(fallback).FlushDisk();
        Assert.Equal(0, cluster.HostOf(fallback).Storage.HintCount);
    }

    [Fact]
    public void A_fallback_at_its_hint_bound_refuses_and_the_write_fails_instead()
    {
        var cluster = new ManualCluster(4, hints: new HintOptions { MaxBytesPerTarget = 1_024, MaxBytesTotal = 1_024 });
        var (key, replicas, fallback) = Key(cluster);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, new byte[2_000], 3), replicas[2]);
        cluster.Settle();
        ClientResult result = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Unavailable, result.Status);
        HintStats stats = cluster[fallback].HintStats();
        Assert.Equal((0, 1), (stats.Pending, stats.Refused));
        Assert.Equal(0, cluster.HostOf(fallback).Storage.HintCount);
    }

    /// <summary>Five nodes, N=3: two fallbacks per key. The first, full for this target, refuses; the second stands in.</summary>
    [Fact]
    public void A_fallback_that_refuses_is_passed_over_for_the_next_one()
    {
        var cluster = new ManualCluster(5, hints: new HintOptions { MaxBytesPerTarget = 1_024, MaxBytesTotal = 1_024 });
        var (replicas, key) = cluster.KeyWithReplicas(r => r[0] == 0);
        int partition = Meteora.Engine.Hashing.Token.OfKey(key).Partition(cluster.Placement.PartitionCount);
        int[] fallbacks = cluster.Placement.FallbackList(partition).ToArray();
        Assert.Equal(2, fallbacks.Length);

        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, new byte[600], 3), replicas[2]);
        cluster.Settle();
        RequestWithOneUnreachable(cluster, ClientRequest.Set(2, key, new byte[600], 3), replicas[2]);
        cluster.Settle();

        Assert.All(cluster.Hosts[0].Results, r => Assert.Equal(ClientStatus.Ok, r.Status));
        Assert.Equal(2, cluster.Hosts[0].Results.Count);
        Assert.Equal((1, 1), (cluster[fallbacks[0]].HintStats().Stored, cluster[fallbacks[0]].HintStats().Refused));
        Assert.Equal(1, cluster[fallbacks[1]].HintStats().Stored);

        // A third write finds both fallbacks full: the slot fails at once, naming the primary, not at the timeout.
        RequestWithOneUnreachable(cluster, ClientRequest.Set(3, key, new byte[600], 3), replicas[2]);
        cluster.Settle();
        ClientResult third = cluster.Hosts[0].Results.Last();
        Assert.Equal(ClientStatus.Unavailable, third.Status);
        Assert.Contains($"node {replicas[2]}", third.Error);
        Assert.Equal(0, cluster[0].PendingRequestCount);
    }

    /// <summary>
    /// A recovering node applies a bounded number of replays at once, whatever the number of fallbacks: one
    /// beyond <see cref="HintOptions.MaxReplaysApplying"/> is refused, and its fallback sends it again later.
    /// </summary>
    [Fact]
    public void A_node_applying_its_bound_of_replays_refuses_more_until_one_is_durable()
    {
        var cluster = new ManualCluster(4, hints: new HintOptions { MaxReplaysApplying = 1 });
        var (key, replicas, fallback) = Key(cluster);
        int target = replicas[2];
        // A second key with the same primaries (so the same fallback holds both hints for the same target).
        string otherKey = Enumerable.Range(0, 10_000).Select(i => "other" + i).First(k =>
            cluster.Placement.PreferenceList(Meteora.Engine.Hashing.Token.OfKey(k).Partition(cluster.Placement.PartitionCount)).SequenceEqual(replicas));
        var other = (Replicas: replicas, Key: otherKey);
        RequestWithOneUnreachable(cluster, ClientRequest.Set(1, key, B("a"), 3), target);
        cluster.Settle();
        RequestWithOneUnreachable(cluster, ClientRequest.Set(2, other.Key, B("b"), 3), target);
        cluster.Settle();
        Assert.Equal(2, cluster[fallback].HintStats().Pending);

        Heartbeat(cluster, target, fallback);
        FireHandoffTimers(cluster, fallback);
        Assert.Equal(2, cluster.InFlight.Count(m => m.Message is HintReplay));
        cluster.Deliver(m => m.Message is HintReplay); // the first is being applied, the second refused
        Assert.Equal(1, cluster[target].Counters.HintReplaysRefused);
        cluster.Deliver(m => m.Message is HintReplayAck);
        Assert.Equal(2, cluster[fallback].HintStats().Pending);

        cluster.HostOf(target).FlushDisk();
        cluster.Deliver(m => m.Message is HintReplayAck);
        Assert.Equal(1, cluster[fallback].HintStats().Pending);
        FireHandoffTimers(cluster, fallback);
        cluster.Deliver(m => m.Message is HintReplay);
        cluster.HostOf(target).FlushDisk();
        cluster.Deliver(m => m.Message is HintReplayAck);
        Assert.Equal((0, 2), (cluster[fallback].HintStats().Pending, cluster[fallback].HintStats().Delivered));
        Assert.Equal(1, cluster[target].Counters.HintReplaysRefused);
    }
}
