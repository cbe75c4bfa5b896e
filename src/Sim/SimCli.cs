using System.CommandLine;
using System.Globalization;

namespace Meteora.Sim;

/// <summary>
/// <c>meteora-sim run --seed S [...] [--json]</c>. Exit codes: 0 ok, 1 a violation, 2 usage error
/// (one line on stderr).
/// </summary>
public static class SimCli
{
    public const int ExitOk = 0;
    public const int ExitViolation = 1;
    public const int ExitUsage = 2;

    public static int Main(string[] args) => Run(args);

    public static int Run(string[] args)
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed of the run (the whole run is a function of it)", Required = true };
        var nodes = new Option<int>("--nodes") { Description = "Cluster size K", DefaultValueFactory = _ => 3 };
        var ops = new Option<int>("--ops") { Description = "Client operations to issue", DefaultValueFactory = _ => 1000 };
        var n = new Option<int?>("--n") { Description = "Replication factor N (default min(3, nodes))" };
        var r = new Option<int?>("--r") { Description = "Read consistency R for every get (default: random 1..N per request)" };
        var w = new Option<int?>("--w") { Description = "Write consistency W for every set/delete (default: random 1..N per request)" };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 8 };
        var keys = new Option<int>("--keys") { Description = "Size of the key space", DefaultValueFactory = _ => 16 };
        var partitions = new Option<int>("--partitions") { Description = "Partition count Q (power of two)", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line" };
        var trace = new Option<string?>("--trace") { Description = "Write a readable per-event trace to this file" };
        var faults = new Option<string?>("--faults") { Description = "Fault kinds: partition,crash,drop,dup,reorder,disk,clock,buggify or all (default none)" };
        var plant = new Option<string?>("--plant") { Description = "Plant a deliberate bug: ack-before-durable, lww-no-tiebreak, read-ignores-r" };

        var run = new Command("run", "Run one seeded simulation and check its invariants");
        foreach (Option option in new Option[] { seed, nodes, ops, n, r, w, clients, keys, partitions, json, trace, faults, plant })
        {
            run.Options.Add(option);
        }
        run.SetAction(parse =>
        {
            int nodeCount = parse.GetValue(nodes);
            var options = new SimOptions
            {
                Nodes = nodeCount,
                Operations = parse.GetValue(ops),
                ReplicationFactor = parse.GetValue(n) ?? Math.Min(3, Math.Max(1, nodeCount)),
                ReadConsistency = parse.GetValue(r),
                WriteConsistency = parse.GetValue(w),
                Clients = parse.GetValue(clients),
                Keys = parse.GetValue(keys),
                Partitions = parse.GetValue(partitions),
                Faults = FaultKindsParser.Parse(parse.GetValue(faults)),
                Plant = PlantedBugParser.Parse(parse.GetValue(plant)),
            };
            return RunOne(parse.GetValue(seed), options, parse.GetValue(json), parse.GetValue(trace), args);
        });

        var root = new RootCommand("Meteora deterministic simulator");
        root.Subcommands.Add(run);
        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"meteora-sim: {result.Errors[0].Message}");
            return ExitUsage;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (SimUsageException e)
        {
            Console.Error.WriteLine($"meteora-sim: {e.Message}");
            return ExitUsage;
        }
    }

    private static int RunOne(ulong seed, SimOptions options, bool json, string? tracePath, string[] args)
    {
        options.Validate();
        SimResult result;
        StreamWriter? traceWriter = null;
        try
        {
            if (tracePath is not null)
            {
                traceWriter = new StreamWriter(tracePath) { AutoFlush = false };
            }
            result = new SimCluster(seed, options, traceWriter).Run();
        }
        finally
        {
            traceWriter?.Dispose();
        }
        if (!result.Ok)
        {
            Console.WriteLine($"FAILED seed={seed}");
            foreach (string violation in result.Violations) Console.WriteLine($"  {violation}");
            Console.WriteLine($"replay: meteora-sim {string.Join(' ', args)}");
        }
        if (json)
        {
            Console.WriteLine(result.ToJson());
        }
        else
        {
            double ratio = result.WallMs == 0 ? double.PositiveInfinity : (double)result.SimulatedMs / result.WallMs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed={seed} ok={result.Ok} events={result.Events} simulated={result.SimulatedMs}ms wall={result.WallMs}ms " +
                $"sim/wall={ratio:F1} opsOk={result.OpsOk} opsFailed={result.OpsFailed} trace={result.TraceHash}"));
        }
        return result.Ok ? ExitOk : ExitViolation;
    }
}
