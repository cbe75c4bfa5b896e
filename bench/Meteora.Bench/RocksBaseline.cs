using System.Diagnostics;
using System.Text;
using RocksDbSharp;

namespace Meteora.Bench;

/// <summary>The storage baseline: raw RocksDB puts and gets through the same package, one thread, no Meteora.</summary>
public static class RocksBaseline
{
    public static IReadOnlyList<PhaseResult> Run(string directory, int keys, int valueBytes, TimeSpan duration)
    {
        Directory.CreateDirectory(directory);
        using RocksDb db = RocksDb.Open(new DbOptions().SetCreateIfMissing(true), directory);
        byte[] value = new byte[valueBytes];
        Random.Shared.NextBytes(value);
        byte[][] keyBytes = new byte[keys][];
        for (int i = 0; i < keys; i++) keyBytes[i] = Encoding.UTF8.GetBytes($"key-{i}");

        var unsynced = new WriteOptions().SetSync(false);
        var synced = new WriteOptions().SetSync(true);
        return
        [
            Measure("rocksdb put (WAL, no fsync)", duration, i => db.Put(keyBytes[i % keys], value, null, unsynced)),
            Measure("rocksdb put (WAL + fsync each)", duration, i => db.Put(keyBytes[i % keys], value, null, synced)),
            Measure("rocksdb get", duration, i => db.Get(keyBytes[i % keys])),
        ];
    }

    private static PhaseResult Measure(string name, TimeSpan duration, Action<int> operation)
    {
        var recorder = new LatencyRecorder(1);
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        int i = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long start = Stopwatch.GetTimestamp();
            operation(i++);
            recorder.Record(0, Stopwatch.GetTimestamp() - start);
        }
        return recorder.Summarize(name, clock.Elapsed.TotalSeconds, 0);
    }
}
