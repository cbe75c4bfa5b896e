using Meteora.Engine.Node;
using Meteora.Engine.Protocol;
using Meteora.Engine.Ring;
using Meteora.Engine.Runtime;
using Meteora.Engine.Storage;
using Meteora.Net.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meteora.Tests.Net.Runtime;

/// <summary>An exception from the engine is fail-stop: the loop stops running events instead of carrying on with state it cannot trust.</summary>
public sealed class EventLoopFailStopTests
{
    private sealed class Nowhere : ITransport, IClientResponder
    {
        public void Send(int toNode, Message message) { }
        public void Respond(ClientResult result) { }
    }

    private static MeteoraNode NewNode(EventLoop loop)
    {
        var placement = new ReplicaPlacement(RingLayout.Create(8, [0]), 1);
        var nowhere = new Nowhere();
        return new MeteoraNode(new NodeOptions { NodeId = 0, ReplicationFactor = 1 }, placement, new SystemClock(), loop,
            nowhere, new InMemoryStorage(), new SystemRandom(), nowhere);
    }

    [Fact]
    public async Task An_engine_exception_stops_the_loop_raises_Faulted_and_refuses_later_events()
    {
        using var loop = new EventLoop(NullLogger<EventLoop>.Instance);
        var faulted = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Faulted += e => faulted.TrySetResult(e);
        loop.Start(NewNode(loop));
        Assert.Equal(0, await loop.CallAsync(node => node.NodeId));

        var failing = loop.CallAsync<int>(_ => throw new InvalidOperationException("planted engine failure"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Exception reported = await faulted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("planted engine failure", reported.Message);
        Assert.True(loop.IsFaulted);

        // Before fail-stop the loop logged the error and kept running; now nothing more runs.
        var later = loop.CallAsync(node => node.NodeId);
        await Assert.ThrowsAnyAsync<Exception>(() => later.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
