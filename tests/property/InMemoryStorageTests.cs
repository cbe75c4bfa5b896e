using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

public sealed class InMemoryStorageTests
{
    private static StoredValue V(long ts, string? text) =>
        new(new WriteVersion(ts, 1), text is null ? null : System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Writes_are_visible_at_once_and_durable_only_after_completion()
    {
        var storage = new InMemoryStorage();
        storage.Write(0, "a", V(1, "x"), 10);
        Assert.True(storage.TryGet(0, "a", out var seen));
        Assert.Equal(V(1, "x"), seen);
        Assert.Empty(storage.DurableEntries);
        Assert.Equal(10, storage.CompleteOldest(durable: true));
        Assert.Single(storage.DurableEntries);
    }

    [Fact]
    public void Completions_come_back_in_submission_order_including_syncs()
    {
        var storage = new InMemoryStorage();
        storage.Write(0, "a", V(1, "x"), 1);
        storage.Sync(2);
        storage.Write(0, "b", V(1, "y"), 3);
        Assert.Equal([1L, 2L, 3L], [storage.CompleteOldest(true), storage.CompleteOldest(true), storage.CompleteOldest(true)]);
        Assert.Throws<InvalidOperationException>(() => storage.CompleteOldest(true));
    }

    [Fact]
    public void Crash_drops_exactly_the_writes_not_yet_durable()
    {
        var storage = new InMemoryStorage();
        storage.Write(0, "a", V(1, "old"), 1);
        storage.CompleteOldest(true);
        storage.Write(0, "a", V(2, "new"), 2);
        storage.Write(0, "b", V(2, "lost"), 3);
        storage.Crash();
        Assert.True(storage.TryGet(0, "a", out var a));
        Assert.Equal(V(1, "old"), a);
        Assert.False(storage.TryGet(0, "b", out _));
        Assert.Equal(0, storage.PendingCount);
    }

    [Fact]
    public void A_failed_write_is_rolled_back_to_the_durable_value()
    {
        var storage = new InMemoryStorage();
        storage.Write(0, "a", V(1, "old"), 1);
        storage.CompleteOldest(true);
        storage.Write(0, "a", V(2, "bad"), 2);
        storage.CompleteOldest(durable: false);
        Assert.True(storage.TryGet(0, "a", out var a));
        Assert.Equal(V(1, "old"), a);
    }

    [Fact]
    public void Tombstones_are_stored_like_values()
    {
        var storage = new InMemoryStorage();
        storage.Write(0, "a", StoredValue.Tombstone(new WriteVersion(3, 1)), 1);
        storage.CompleteOldest(true);
        storage.Crash();
        Assert.True(storage.TryGet(0, "a", out var a));
        Assert.True(a.IsTombstone);
    }
}
