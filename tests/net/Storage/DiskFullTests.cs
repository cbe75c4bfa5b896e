using System.Diagnostics;
using System.Text;
using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>
/// A full disk refuses writes (reported failed, never visible), keeps reads, never fails the store,
/// and writes resume once space returns: by the free-space guard, and when RocksDB itself meets
/// ENOSPC on a real size-limited tmpfs (its WAL writer stays broken until the store reopens it).
/// </summary>
public sealed class DiskFullTests
{
    private static StoredValue Value(long version, string text) => new(new WriteVersion(version, 1), Encoding.UTF8.GetBytes(text));

    [Fact]
    public void GuardRefusesWritesBelowTheReserveAndResumesWhenSpaceReturns()
    {
        using var dir = new TempDir("meteora-diskfull");
        long free = 1_000_000;
        var sink = new CollectingCompletionSink();
        using (RocksDbStorage storage = RocksDbStorage.Open(dir.Path, sink, new DiskSpaceGuard(dir.Path, minFreeBytes: 500_000, freeBytes: _ => free)))
        {
            storage.Write(1, "a", Value(1, "kept"), 1);
            Assert.True(sink.WaitFor(1)[0].Durable);

            free = 100;
            Thread.Sleep(DiskSpaceGuard.ProbeCacheMs + 5);
            string refusal = Assert.IsType<string>(storage.WriteRefusal);
            Assert.Contains(dir.Path, refusal, StringComparison.Ordinal);
            Assert.StartsWith("disk full:", refusal, StringComparison.Ordinal);
            storage.Write(1, "b", Value(2, "refused"), 2);
            Assert.False(sink.WaitFor(2)[1].Durable);
            Assert.False(storage.TryGet(1, "b", out _));
            Assert.True(storage.TryGet(1, "a", out StoredValue kept));
            Assert.Equal("kept", Encoding.UTF8.GetString(kept.Value!));

            free = 1_000_000;
            Thread.Sleep(DiskSpaceGuard.ProbeCacheMs + 5);
            Assert.Null(storage.WriteRefusal);
            storage.Write(1, "b", Value(3, "after"), 3);
            Assert.True(sink.WaitFor(3)[2].Durable);
            Assert.False(storage.IsFaulted);
        }
    }

    /// <summary>
    /// Needs root (it mounts a 16 MiB tmpfs): fills it with the store's own writes, with the guard
    /// off, until RocksDB fails one; then frees a ballast file and writes again.
    /// </summary>
    [Fact]
    public void RealEnospcFailsTheWriteKeepsReadsAndRecoversAfterSpaceReturns()
    {
        Assert.True(Environment.UserName == "root", "this test mounts a tmpfs and must run as root (as CI does)");
        using var dir = new TempDir("meteora-enospc");
        Run("mount", "-t", "tmpfs", "-o", "size=16m", "meteora-enospc", dir.Path);
        try
        {
            string ballast = Path.Combine(dir.Path, "ballast");
            Run("fallocate", "-l", "4m", ballast);
            var sink = new CollectingCompletionSink();
            string db = Path.Combine(dir.Path, "db");
            var acked = new List<(string Key, string Value)>();
            using (RocksDbStorage storage = RocksDbStorage.Open(db, sink, new DiskSpaceGuard(db, minFreeBytes: 0)))
            {
                string big = new('x', 256 * 1024);
                long token = 0;
                bool failed = false;
                while (!failed && token < 200)
                {
                    token++;
                    storage.Write(1, $"k{token}", Value(token, big + token), token);
                    Completion done = sink.WaitFor((int)token)[^1];
                    if (done.Durable) acked.Add(($"k{token}", big + token));
                    failed = !done.Durable;
                }
                Assert.True(failed, "16 MiB of tmpfs never filled");
                Assert.False(storage.IsFaulted);
                Assert.False(storage.TryGet(1, $"k{token}", out _));
                Assert.All(acked, a => Assert.True(storage.TryGet(1, a.Key, out _)));

                File.Delete(ballast);
                token++;
                storage.Write(1, "after", Value(token, "space is back"), token);
                Assert.True(sink.WaitFor((int)token)[^1].Durable);
                Assert.True(storage.TryGet(1, "after", out _));
                Assert.False(storage.IsFaulted);
                Assert.Equal(1, storage.Reopens); // the WAL writer broke on ENOSPC and was replaced
            }
            using RocksDbStorage reopened = RocksDbStorage.Open(db, new CollectingCompletionSink(), new DiskSpaceGuard(db, minFreeBytes: 0));
            Assert.All(acked, a =>
            {
                Assert.True(reopened.TryGet(1, a.Key, out StoredValue held), $"acked {a.Key} lost");
                Assert.Equal(a.Value, Encoding.UTF8.GetString(held.Value!));
            });
            Assert.True(reopened.TryGet(1, "after", out _));
        }
        finally
        {
            Run("umount", "-l", dir.Path);
        }
    }

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} failed: {error}");
    }
}

/// <summary>A node restarted on a full disk waits for space instead of exiting (found by the nemesis, seed 31).</summary>
public sealed class DiskFullStartupTests
{
    private sealed class CountingLogger : Microsoft.Extensions.Logging.ILogger
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) => Warnings++;
    }

    [Fact]
    public void OpenRetriesWhileTheDiskIsFullThenSucceeds()
    {
        int attempts = 0;
        var sleeps = new List<int>();
        var logger = new CountingLogger();
        string opened = DiskFullStartup.OpenWaitingForSpace(() =>
        {
            if (++attempts < 3) throw new IOException("cannot open RocksDB at /d: IO error: No space left on device: While appending to file: /d/000014.sst");
            return "store";
        }, logger, sleep: sleeps.Add);
        Assert.Equal("store", opened);
        Assert.Equal(3, attempts);
        Assert.Equal([DiskFullStartup.RetryEveryMs, DiskFullStartup.RetryEveryMs], sleeps);
        Assert.Equal(1, logger.Warnings);
    }

    [Fact]
    public void OtherOpenErrorsAndAFullDiskPastTheWaitFailAtOnce()
    {
        int attempts = 0;
        Assert.Throws<IOException>(() => DiskFullStartup.OpenWaitingForSpace<string>(() =>
        {
            attempts++;
            throw new IOException("cannot open RocksDB at /d: IO error: lock hold by current process");
        }, new CountingLogger(), sleep: _ => { }));
        Assert.Equal(1, attempts);

        attempts = 0;
        Assert.Throws<IOException>(() => DiskFullStartup.OpenWaitingForSpace<string>(() =>
        {
            attempts++;
            throw new IOException("No space left on device");
        }, new CountingLogger(), maxWaitMs: 0, sleep: _ => Assert.Fail("must not wait past the bound")));
        Assert.Equal(1, attempts);
    }
}
