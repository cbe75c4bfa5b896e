using System.Text;
using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;

namespace Meteora.Tests.Sim;

public sealed class FailureDetectorTests
{
    private const long Ms = 1_000;

    [Fact]
    public void Phi_grows_linearly_with_silence_over_the_mean_interval()
    {
        var phi = new PhiAccrual(windowSize: 100, priorIntervalMicros: 200 * Ms, maxSampleMicros: 2_000 * Ms, startMicros: 0);
        for (long t = 200 * Ms; t <= 10_000 * Ms; t += 200 * Ms) phi.Heartbeat(t);
        Assert.Equal(200 * Ms, phi.MeanIntervalMicros, precision: 6);
        // Exponential model: phi(t) = t / (mean * ln 10); 8 is reached after about 3.68 s of silence.
        Assert.Equal(8.0, phi.Phi(10_000 * Ms + (long)(8 * 200 * Ms * Math.Log(10))), precision: 3);
        Assert.Equal(0, phi.Phi(10_000 * Ms));
        phi.CheckInvariants();
    }

    [Fact]
    public void An_outage_ends_suspicion_but_does_not_inflate_the_mean()
    {
        var phi = new PhiAccrual(windowSize: 100, priorIntervalMicros: 200 * Ms, maxSampleMicros: 2_000 * Ms, startMicros: 0);
        for (long t = 200 * Ms; t <= 2_000 * Ms; t += 200 * Ms) phi.Heartbeat(t);
        Assert.True(phi.Phi(30_000 * Ms) > 8);
        phi.Heartbeat(30_000 * Ms); // back after 28 s
        Assert.Equal(0, phi.Phi(30_000 * Ms));
        Assert.Equal(200 * Ms, phi.MeanIntervalMicros, precision: 6);
        phi.Heartbeat(29_000 * Ms); // a clock step back: no sample, no rewind
        Assert.Equal(30_000 * Ms, phi.LastArrivalMicros);
        Assert.Equal(11, phi.SampleCount);
        phi.CheckInvariants();
    }

    [Fact]
    public void The_window_forgets_old_intervals()
    {
        var phi = new PhiAccrual(windowSize: 4, priorIntervalMicros: 1_000 * Ms, maxSampleMicros: 10_000 * Ms, startMicros: 0);
        long t = 0;
        for (int i = 0; i < 8; i++) phi.Heartbeat(t += 100 * Ms);
        Assert.Equal(100 * Ms, phi.MeanIntervalMicros, precision: 6);
        Assert.Equal(4, phi.SampleCount);
        phi.CheckInvariants();
    }

    [Fact]
    public void A_silent_replica_is_suspected_and_the_coordinator_stops_waiting_on_it()
    {
        var cluster = new ManualCluster(3);
        long interval = new FailureDetectorOptions().HeartbeatIntervalMs * Ms;
        // Node 1 keeps beating; node 2 goes silent for 10 s.
        for (int i = 0; i < 50; i++)
        {
            cluster.NowMicros += interval;
            cluster[0].OnMessage(1, new Heartbeat(i));
        }
        Assert.False(cluster[0].IsPeerDown(1));
        Assert.True(cluster[0].IsPeerDown(2));
        Assert.False(cluster[0].IsPeerDown(0));
        PeerLiveness[] peers = cluster[0].PeerLiveness();
        Assert.Equal([1, 2], peers.Select(p => p.Node));
        Assert.True(peers[1].Phi > 8 && !peers[1].Up && peers[0].Up, string.Join(", ", peers));

        // W=3 cannot succeed without node 2: 503 at once, no timer needed, nothing sent to node 2.
        cluster[0].OnClientRequest(ClientRequest.Set(1, "k", Encoding.UTF8.GetBytes("v"), 3));
        ClientResult failed = Assert.Single(cluster.Hosts[0].Results);
        Assert.Equal(ClientStatus.Unavailable, failed.Status);
        Assert.DoesNotContain(cluster.InFlight, m => m.To == 2 && m.Message is ReplicaWrite);

        // W=2 still succeeds on the two live replicas.
        cluster[0].OnClientRequest(ClientRequest.Set(2, "k", Encoding.UTF8.GetBytes("v2"), 2));
        cluster.Settle();
        Assert.Equal(ClientStatus.Ok, cluster.Hosts[0].Results.Single(r => r.RequestId == 2).Status);

        // One heartbeat from node 2 and it is trusted again.
        cluster[0].OnMessage(2, new Heartbeat(99));
        Assert.False(cluster[0].IsPeerDown(2));
    }

    [Fact]
    public void Every_heartbeat_round_reaches_every_peer()
    {
        var cluster = new ManualCluster(4);
        cluster.InFlight.Clear();
        cluster.Hosts[0].FireTimers();
        int[] targets = cluster.InFlight.Where(m => m.From == 0 && m.Message is Heartbeat).Select(m => m.To).Order().ToArray();
        Assert.Equal([1, 2, 3], targets);
    }
}
