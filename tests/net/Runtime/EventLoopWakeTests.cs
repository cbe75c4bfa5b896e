using Meteora.Engine.Node;
using Meteora.Net.Hosting;
using Meteora.Net.Security;
using Meteora.Tests.Net.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meteora.Tests.Net.Runtime;

/// <summary>
/// Issue 11: the loop sleeps on an event its producers set (no thread-pool continuation), and the
/// storage I/O thread hands it one event per WAL sync. A lost wake-up would leave a request unrun
/// forever, so each wait below has a generous hang guard; nothing here measures time.
/// </summary>
public sealed class EventLoopWakeTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static NodeRuntime OneNode(TempDir dir) =>
        NodeRuntime.Create(new NodeConfig { NodeId = 0, DataDir = dir.Path, ReplicationFactor = 1 }, NodeSecurity.None, NullLoggerFactory.Instance);

    [Fact]
    public async Task Every_post_to_an_idle_loop_is_run_whichever_thread_posts_it()
    {
        using var dir = new TempDir();
        await using NodeRuntime runtime = OneNode(dir);
        runtime.Start();
        // One at a time, so the loop goes back to sleep before each post: the race the wake protocol must win.
        for (int i = 0; i < 2_000; i++)
        {
            int expected = i;
            int seen = await Task.Run(() => runtime.Loop.CallAsync(_ => expected)).WaitAsync(HangGuard);
            Assert.Equal(expected, seen);
        }
        // And in bursts from many threads at once.
        var burst = new Task<int>[256];
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < burst.Length; i++)
            {
                int expected = i;
                burst[i] = Task.Run(() => runtime.Loop.CallAsync(_ => expected));
            }
            int[] results = await Task.WhenAll(burst).WaitAsync(HangGuard);
            for (int i = 0; i < results.Length; i++) Assert.Equal(i, results[i]);
        }
    }

    [Fact]
    public async Task The_completions_of_one_WAL_sync_reach_the_loop_as_one_event()
    {
        using var dir = new TempDir();
        await using NodeRuntime runtime = OneNode(dir);
        runtime.Start();
        // The membership watcher's polls are loop events too: stop it, and let a poll already queued run first.
        await runtime.Watcher.DisposeAsync();
        await runtime.Loop.CallAsync(_ => 0).WaitAsync(HangGuard);
        const int Writes = 400;
        long eventsBefore = runtime.Loop.EventsRun;
        long syncsBefore = runtime.Storage.SyncCount;
        var sets = new Task<ClientResult>[Writes];
        for (int i = 0; i < Writes; i++)
        {
            sets[i] = runtime.Gateway.SubmitAsync(ClientOperation.Set, $"key-{i}", [(byte)i], null, CancellationToken.None);
        }
        ClientResult[] results = await Task.WhenAll(sets).WaitAsync(HangGuard);
        Assert.All(results, r => Assert.Equal(ClientStatus.Ok, r.Status));

        // Each request is one event and each sync (every one of which covered at least one write) one
        // more; before, every completion was an event of its own, i.e. 2 x Writes events.
        long syncs = runtime.Storage.SyncCount - syncsBefore;
        long events = runtime.Loop.EventsRun - eventsBefore;
        Assert.Equal(Writes + syncs, events);
        Assert.True(syncs < Writes, $"{Writes} concurrent writes took {syncs} syncs: group commit did not group");
    }
}
