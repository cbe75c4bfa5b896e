using Meteora.Sim.Timeline;

namespace Meteora.Sim;

/// <summary>
/// Carries encoded frames between nodes with a latency drawn from the seed; under the nemesis,
/// partitions cut links and lossy periods drop, duplicate, delay and jitter (reorder) messages.
/// </summary>
internal sealed class SimNetwork(SimCluster cluster, SimRandom random)
{
    /// <summary>Sends the first <paramref name="length"/> bytes of <paramref name="frame"/>, a pooled buffer this takes over (see <see cref="SimFrames"/>).</summary>
    public void Send(int from, int to, byte[] frame, int length)
    {
        if (!cluster.Nodes[to].Up)
        {
            // A crashed peer refuses the connection: the sender learns it one latency later. (A
            // partition, by contrast, loses packets silently and only timeouts notice.)
            long refusedAfter = cluster.Options.NetworkLatencyMinMicros + (long)random.Exponential(cluster.Options.NetworkLatencyMeanExtraMicros);
            cluster.Enqueue(cluster.NowMicros + refusedAfter, new SimEvent
            {
                Kind = SimEventKind.SendFailed, Node = from, From = to, Frame = frame, FrameLength = length, Incarnation = cluster.Nodes[from].Incarnation,
            });
            Record(from, to, frame.AsSpan(0, length), cluster.NowMicros + refusedAfter, MessageFate.Refused);
            return;
        }
        if (!cluster.Nemesis.LinkOpen(from, to))
        {
            Record(from, to, frame.AsSpan(0, length), cluster.NowMicros, MessageFate.Cut);
            cluster.Frames.Return(frame);
            return;
        }
        LinkFault? fault = cluster.Nemesis.ActiveLinkFault;
        if (fault is not null && fault.DropProbability > 0 && random.Chance(fault.DropProbability))
        {
            Record(from, to, frame.AsSpan(0, length), cluster.NowMicros, MessageFate.Dropped);
            cluster.Frames.Return(frame);
            return;
        }
        Deliver(from, to, frame, length, fault, MessageFate.Delivered);
        if (fault is not null && fault.DuplicateProbability > 0 && random.Chance(fault.DuplicateProbability))
        {
            // Its own copy: each delivery returns its buffer to the pool once processed.
            Deliver(from, to, cluster.Frames.Copy(frame, length), length, fault, MessageFate.Duplicate);
        }
    }

    /// <summary>Tells the timeline recorder, if the run has one (it draws no randomness, so the run is unchanged).</summary>
    private void Record(int from, int to, ReadOnlySpan<byte> frame, long arriveMicros, MessageFate fate) =>
        cluster.Timeline?.OnMessage(cluster.NowMicros, arriveMicros, from, to, frame, fate);

    private void Deliver(int from, int to, byte[] frame, int length, LinkFault? fault, MessageFate fate)
    {
        SimOptions o = cluster.Options;
        long latency = o.NetworkLatencyMinMicros + (long)random.Exponential(o.NetworkLatencyMeanExtraMicros);
        latency = Math.Min(o.NetworkLatencyMaxMicros, latency);
        if (fault is not null)
        {
            if (fault.ReorderJitterMicros > 0) latency += random.NextInt((int)fault.ReorderJitterMicros);
            if (fault.DelaySpikeProbability > 0 && random.Chance(fault.DelaySpikeProbability)) latency *= random.NextInt(10, 100);
        }
        cluster.Enqueue(cluster.NowMicros + latency, new SimEvent { Kind = SimEventKind.Deliver, Node = to, From = from, Frame = frame, FrameLength = length });
        Record(from, to, frame.AsSpan(0, length), cluster.NowMicros + latency, fate);
    }
}
