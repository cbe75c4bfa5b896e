using System.Text;
using Meteora.Engine.Handoff;
using Meteora.Engine.Storage;
using Meteora.Engine.Versioning;
using Meteora.Net.Storage;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Storage;

/// <summary>What only the RocksDB hint store promises: its byte layout, refusal of corrupt records, the disk guard, group commit.</summary>
public sealed class RocksDbHintTests
{
    private static Hint ValueHint(int target, long sequence, string value) =>
        new(target, sequence, $"key-{sequence}", new WriteVersion(sequence + 1000, 3), Encoding.UTF8.GetBytes(value), StoredAtMicros: 5);

    private static byte[] Key(int target, long sequence)
    {
        var key = new byte[HintCodec.KeyBytes];
        HintCodec.EncodeKey(target, sequence, key);
        return key;
    }

    [Fact]
    public void KeyIsTargetThenSequenceBigEndian()
    {
        Assert.Equal([0, 0, 1, 2, 0, 0, 0, 1, 0, 0, 0, 7], Key(258, (1L << 32) + 7));
        Hint decoded = HintCodec.Decode(Key(258, (1L << 32) + 7), HintCodec.EncodeValue(ValueHint(258, (1L << 32) + 7, "v")));
        Assert.Equal((258, (1L << 32) + 7), (decoded.Target, decoded.Sequence));
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public void NegativeTargetsAndSequencesAreRefused(int target, long sequence)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Key(target, sequence));
    }

    [Fact]
    public void ValueRecordIsVersionedAndEndsWithTheStoredValueEncoding()
    {
        Hint hint = new(1, 2, "ab", new WriteVersion(9, 4), [7], StoredAtMicros: 258);
        byte[] record = HintCodec.EncodeValue(hint);
        byte[] storedValue = StoredValueCodec.Encode(hint.AsStoredValue());
        Assert.Equal([HintCodec.FormatVersion, 0, 0, 0, 0, 0, 0, 1, 2, 0, 2, (byte)'a', (byte)'b', .. storedValue], record);
        Assert.Equal(hint, HintCodec.Decode(Key(1, 2), record));
    }

    public static TheoryData<byte[], byte[], string> CorruptRecords()
    {
        byte[] good = HintCodec.EncodeValue(new Hint(1, 2, "ab", new WriteVersion(9, 4), [7], 258));
        byte[] key = Key(1, 2);
        byte[] wrongFormat = [.. good];
        wrongFormat[0] = 9;
        byte[] keyTooLong = [.. good];
        keyTooLong[10] = 200;
        byte[] badUtf8 = [.. good];
        badUtf8[11] = 0xFF;
        return new TheoryData<byte[], byte[], string>
        {
            { key[..11], good, "hint key is 11 bytes" },
            { [0x80, 0, 0, 0, .. key[4..]], good, "names target 2147483648" },
            { key, good[..10], "shorter than its header" },
            { key, wrongFormat, "format 9" },
            { key, keyTooLong, "key length 200" },
            { key, badUtf8, "not valid UTF-8" },
            { key, good[..^3], "stored value" },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptRecords))]
    public void CorruptRecordsAreRefusedNotMisread(byte[] key, byte[] value, string reason)
    {
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => HintCodec.Decode(key, value));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HintWritesShareTheWalSyncOfDataWrites()
    {
        using var harness = new RocksDbStorageHarness();
        using var hold = new ManualResetEventSlim();
        harness.HoldFirstCompletion = hold;
        harness.Storage.Write(0, "first", new StoredValue(new WriteVersion(1, 1), [1]), 1);
        Assert.True(harness.FirstCompletionArrived.Wait(RocksDbStorageHarness.CompletionTimeoutMs));
        for (long token = 2; token <= 1_000; token++)
        {
            if (token % 2 == 0) harness.Storage.WriteHint(ValueHint(1, token, "v"), token);
            else harness.Storage.DeleteHint(1, token - 1, token);
        }
        hold.Set();
        Assert.All(harness.CompleteAll(1_000), c => Assert.True(c.Durable));
        Assert.Equal(2, harness.Rocks.SyncCount); // the first write's sync, then one for all 999 hint changes
    }

    [Fact]
    public void AFullDiskRefusesHintWritesAndDeletesAndTheHintsStayAsTheyWere()
    {
        using var dir = new TempDir("meteora-hint-diskfull");
        long freeBytes = 1_000_000;
        var sink = new CollectingCompletionSink();
        using RocksDbStorage storage = RocksDbStorage.Open(dir.Path, sink, new DiskSpaceGuard(dir.Path, minFreeBytes: 500_000, freeBytes: _ => freeBytes));
        storage.WriteHint(ValueHint(2, 1, "kept"), 1);
        Assert.True(sink.WaitFor(1)[0].Durable);

        freeBytes = 100;
        Thread.Sleep(DiskSpaceGuard.ProbeCacheMs + 5); // the guard caches its probe
        storage.WriteHint(ValueHint(2, 2, "refused"), 2);
        storage.DeleteHint(2, 1, 3);
        List<Completion> completions = sink.WaitFor(3);
        Assert.False(completions[1].Durable);
        Assert.False(completions[2].Durable);
        var held = new List<Hint>();
        storage.ReadHints(held);
        Assert.Equal([ValueHint(2, 1, "kept")], held);
        Assert.False(storage.IsFaulted);

        freeBytes = 1_000_000;
        Thread.Sleep(DiskSpaceGuard.ProbeCacheMs + 5);
        storage.DeleteHint(2, 1, 4);
        Assert.True(sink.WaitFor(4)[3].Durable);
        held.Clear();
        storage.ReadHints(held);
        Assert.Empty(held);
    }

    [Fact]
    public void HintsDoNotAppearAsDataAndDataDoesNotAppearAsHints()
    {
        using var harness = new RocksDbStorageHarness();
        harness.Storage.WriteHint(ValueHint(0, 1, "hinted"), 1);
        harness.Storage.Write(0, "key-1", new StoredValue(new WriteVersion(1, 1), [1]), 2);
        harness.CompleteAll(2);
        var scanned = new List<KeyValuePair<string, StoredValue>>();
        harness.Storage.Scan(0, TokenRange.All, null, scanned, 100);
        Assert.Equal(["key-1"], scanned.Select(e => e.Key));
        var hints = new List<Hint>();
        harness.Storage.ReadHints(hints);
        Assert.Equal("hinted", Encoding.UTF8.GetString(Assert.Single(hints).Value!));
    }

    /// <summary>A corrupt hint record stops the start with one line naming it (the node command prints it), never a replay of garbage.</summary>
    [Fact]
    public void ACorruptRecordOnDiskIsReportedWhenHintsAreRead()
    {
        using var dir = new TempDir("meteora-hint-corrupt");
        var sink = new CollectingCompletionSink();
        using (RocksDbStorage storage = RocksDbStorage.Open(dir.Path, sink))
        {
            storage.WriteHint(ValueHint(1, 1, "good"), 1);
            sink.WaitFor(1);
        }
        using (var db = RocksDbSharp.RocksDb.Open(new RocksDbSharp.DbOptions(), dir.Path, new RocksDbSharp.ColumnFamilies
        {
            { RocksDbStorage.DataFamily, new RocksDbSharp.ColumnFamilyOptions() },
            { RocksDbStorage.HintsFamily, new RocksDbSharp.ColumnFamilyOptions() },
            { RocksDbStorage.MetadataFamily, new RocksDbSharp.ColumnFamilyOptions() },
        }))
        {
            db.Put(Key(1, 2), new byte[] { 9, 9, 9 }, db.GetColumnFamily(RocksDbStorage.HintsFamily));
        }
        using RocksDbStorage reopened = RocksDbStorage.Open(dir.Path, new CollectingCompletionSink());
        var error = Assert.Throws<InvalidOperationException>(() => reopened.ReadHints([]));
        Assert.Contains("holds a corrupt record", error.Message, StringComparison.Ordinal);
    }
}
