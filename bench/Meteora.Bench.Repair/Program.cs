using System.Diagnostics;
using System.Globalization;
using System.Text;
using Meteora.Bench.Repair;
using Meteora.Engine.Protocol;
using Meteora.Engine.Repair;

// Repair cost: bytes exchanged and time to repair d differences among n keys, against the bytes a
// full transfer of one replica would take. Usage: meteora-bench-repair [--keys 100000,1000000]
// [--diffs 0,1,100,10000] [--depth 10]
var keyCounts = new List<int> { 100_000, 1_000_000 };
var diffCounts = new List<int> { 0, 1, 100, 10_000 };
int depth = 10;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--keys": keyCounts = Next().Split(',').Select(int.Parse).ToList(); break;
        case "--diffs": diffCounts = Next().Split(',').Select(int.Parse).ToList(); break;
        case "--depth": depth = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"meteora-bench-repair: unknown option {args[i]} (expected --keys, --diffs, --depth)");
            return 2;
    }
}

Console.WriteLine($"Merkle depth {depth} ({1 << depth} leaves per partition), {TwoReplicas.Partitions} partitions, N=2, values of 16 bytes");
Console.WriteLine("| n keys | d diffs | repaired | bytes exchanged | full transfer bytes | exchanged/full | messages | round trips | repair wall ms |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (int n in keyCounts)
{
    foreach (int d in diffCounts)
    {
        if (d > n) continue;
        var pair = new TwoReplicas(depth);
        long fullTransferBytes = 0;
        for (int k = 0; k < n; k++)
        {
            string key = "key" + k.ToString(CultureInfo.InvariantCulture);
            string value = "value-" + k.ToString("D10", CultureInfo.InvariantCulture);
            pair.Put(0, key, 1_000, value);
            // The first d keys differ: replica 1 has an older version of them.
            pair.Put(1, key, k < d ? 500 : 1_000, value);
            fullTransferBytes += 4 + MessageCodec.EncodedSize(new ReplicaWrite(1, key, new Meteora.Engine.Versioning.WriteVersion(1_000, 9), Encoding.UTF8.GetBytes(value)));
        }
        pair.FlushDisks();
        pair.ResetCounters();

        long start = Stopwatch.GetTimestamp();
        var (_, id) = pair[1].StartRepair();
        pair.Settle();
        double wallMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        RepairStatus status = pair[1].RepairStatus(id) ?? throw new InvalidOperationException("repair job vanished");
        if (status.State != "done" || status.KeysRepaired != d)
        {
            throw new InvalidOperationException($"n={n} d={d}: repair ended {status.State} with {status.KeysRepaired} keys repaired");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {n:N0} | {d:N0} | {status.KeysRepaired:N0} | {pair.BytesSent:N0} | {fullTransferBytes:N0} | {(double)pair.BytesSent / fullTransferBytes:P3} | {pair.MessagesSent:N0} | {pair.Waves / 2} | {wallMs:F1} |"));
    }
}
return 0;
