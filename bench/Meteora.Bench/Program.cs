using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Meteora.Bench;

/// <summary>
/// Cluster load benchmark on loopback: throughput and p50/p99 of set and get against a 1-node cluster
/// (N=R=W=1) and a 3-node cluster (N=3, R=2, W=2), beside two baselines measured in the same run — bare
/// Kestrel returning a constant, and raw RocksDB puts/gets. Everything shares the machine's cores with
/// the load generator, so compare ratios, not absolute numbers.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var duration = new Option<int>("--duration-s") { Description = "Measured seconds per phase", DefaultValueFactory = _ => 5 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent HTTP clients", DefaultValueFactory = _ => 32 };
        var valueBytes = new Option<int>("--value-bytes") { Description = "Value size", DefaultValueFactory = _ => 100 };
        var keys = new Option<int>("--keys") { Description = "Key space", DefaultValueFactory = _ => 10_000 };
        var serveConstant = new Option<int?>("--serve-constant") { Description = "Internal: run the Kestrel baseline server on this port", Hidden = true };
        var root = new RootCommand("Meteora cluster load benchmark");
        foreach (Option option in new Option[] { duration, concurrency, valueBytes, keys, serveConstant }) root.Options.Add(option);
        root.SetAction(parse =>
        {
            if (parse.GetValue(serveConstant) is { } port)
            {
                ConstantServer.RunAsync(port).GetAwaiter().GetResult();
                return 0;
            }
            var settings = new BenchSettings(parse.GetValue(duration), parse.GetValue(concurrency), parse.GetValue(valueBytes), parse.GetValue(keys));
            if (settings.DurationS is < 1 or > 600 || settings.Concurrency is < 1 or > 1024 || settings.ValueBytes is < 0 or > 1024 * 1024 || settings.Keys < 1)
            {
                Console.Error.WriteLine("bench: --duration-s 1..600, --concurrency 1..1024, --value-bytes 0..1048576, --keys >= 1");
                return 2;
            }
            return RunAsync(settings).GetAwaiter().GetResult();
        });
        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"bench: {result.Errors[0].Message}");
            return 2;
        }
        return result.Invoke();
    }

    private sealed record BenchSettings(int DurationS, int Concurrency, int ValueBytes, int Keys)
    {
        public TimeSpan Duration => TimeSpan.FromSeconds(DurationS);
        public TimeSpan Warmup => TimeSpan.FromSeconds(Math.Min(2, DurationS));
    }

    private static async Task<int> RunAsync(BenchSettings s)
    {
        string work = Path.Combine(Path.GetTempPath(), $"meteora-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        string value = new('v', s.ValueBytes);
        var results = new List<PhaseResult>();
        Console.WriteLine($"meteora bench: {s.DurationS}s per phase, {s.Concurrency} clients, {s.ValueBytes}-byte values, {s.Keys} keys, {Environment.ProcessorCount} cores");
        try
        {
            using var load = new HttpLoad(s.Concurrency);

            // Baseline 1: bare Kestrel, constant body.
            using (var kestrel = new NodeLauncher())
            {
                int port = NodeLauncher.FreePorts(1)[0];
                kestrel.StartSelf(["--serve-constant", port.ToString(CultureInfo.InvariantCulture)]);
                string url = $"http://127.0.0.1:{port}/constant";
                await NodeLauncher.WaitForHttpAsync(url);
                string body = SetBody("k", value);
                results.Add(await load.RunAsync("kestrel constant PUT", (_, _) => HttpLoad.Json(HttpMethod.Put, url, body), s.Warmup, s.Duration));
                results.Add(await load.RunAsync("kestrel constant GET", (_, _) => new HttpRequestMessage(HttpMethod.Get, url), s.Warmup, s.Duration));
                Print(results[^2]);
                Print(results[^1]);
            }

            // Baseline 2: raw RocksDB, same package, one thread.
            foreach (PhaseResult r in RocksBaseline.Run(Path.Combine(work, "rocks"), s.Keys, s.ValueBytes, TimeSpan.FromSeconds(Math.Max(1, s.DurationS / 2))))
            {
                results.Add(r);
                Print(r);
            }

            foreach ((string label, int nodes, int n, int r, int w) in new[] { ("1 node N=1 R=1 W=1", 1, 1, 1, 1), ("3 nodes N=3 R=2 W=2", 3, 3, 2, 2) })
            {
                using var cluster = new NodeLauncher();
                await cluster.StartClusterAsync(nodes, n, r, w, Path.Combine(work, $"cluster-{nodes}"));
                string[] urls = [.. cluster.HttpUrls];
                int keyCount = s.Keys;
                results.Add(await load.RunAsync($"meteora set, {label}", (worker, i) =>
                {
                    long k = (i * s.Concurrency + worker) % keyCount;
                    return HttpLoad.Json(HttpMethod.Put, $"{urls[(worker + i) % urls.Length]}/meteora/set", SetBody($"key-{k}", value));
                }, s.Warmup, s.Duration));
                Print(results[^1]);
                results.Add(await load.RunAsync($"meteora get, {label}", (worker, i) =>
                {
                    long k = (i * s.Concurrency + worker) % keyCount;
                    return new HttpRequestMessage(HttpMethod.Get, $"{urls[(worker + i) % urls.Length]}/meteora/get/key-{k}");
                }, s.Warmup, s.Duration));
                Print(results[^1]);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        Console.WriteLine();
        Console.WriteLine(Table(results));
        return 0;
    }

    private static string SetBody(string key, string value) => $"{{\"key\":\"{key}\",\"value\":\"{value}\"}}";

    private static void Print(PhaseResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {r.Name,-36} {r.OpsPerSecond,10:F0} ops/s  p50 {r.P50Micros,8:F0} us  p99 {r.P99Micros,8:F0} us  errors {r.Errors}"));

    /// <summary>Markdown table; Meteora rows also as ratios to the Kestrel baseline of the same verb and to RocksDB.</summary>
    private static string Table(List<PhaseResult> results)
    {
        PhaseResult kestrelPut = results.First(r => r.Name == "kestrel constant PUT");
        PhaseResult kestrelGet = results.First(r => r.Name == "kestrel constant GET");
        PhaseResult rocksSyncPut = results.First(r => r.Name.StartsWith("rocksdb put (WAL + fsync", StringComparison.Ordinal));
        PhaseResult rocksGet = results.First(r => r.Name == "rocksdb get");
        var table = new StringBuilder();
        table.AppendLine("| phase | ops/s | p50 us | p99 us | errors | ops/s vs Kestrel | p50 vs Kestrel | ops/s vs RocksDB |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (PhaseResult r in results)
        {
            bool isSet = r.Name.StartsWith("meteora set", StringComparison.Ordinal);
            bool isGet = r.Name.StartsWith("meteora get", StringComparison.Ordinal);
            PhaseResult? http = isSet ? kestrelPut : isGet ? kestrelGet : null;
            PhaseResult? rocks = isSet ? rocksSyncPut : isGet ? rocksGet : null;
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.OpsPerSecond:F0} | {r.P50Micros:F0} | {r.P99Micros:F0} | {r.Errors} | {Ratio(r.OpsPerSecond, http?.OpsPerSecond)} | {Ratio(r.P50Micros, http?.P50Micros)} | {Ratio(r.OpsPerSecond, rocks?.OpsPerSecond)} |"));
        }
        return table.ToString();
    }

    private static string Ratio(double value, double? baseline) =>
        baseline is { } b && b > 0 ? string.Create(CultureInfo.InvariantCulture, $"{value / b:F2}x") : "";
}
