using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Meteora.Sim;

/// <summary>
/// <c>meteora-sim run|sweep|shrink</c>. Exit codes: 0 ok, 1 a violation, 2 usage error (one line on stderr).
/// </summary>
public static class SimCli
{
    public const int ExitOk = 0;
    public const int ExitViolation = 1;
    public const int ExitUsage = 2;

    /// <summary>Options shared by run, sweep and shrink.</summary>
    private sealed class RunOptions
    {
        public readonly Option<int> Nodes = new("--nodes") { Description = "Cluster size K", DefaultValueFactory = _ => 3 };
        public readonly Option<int> Ops = new("--ops") { Description = "Client operations to issue", DefaultValueFactory = _ => 1000 };
        public readonly Option<int?> N = new("--n") { Description = "Replication factor N (default min(3, nodes))" };
        public readonly Option<int?> R = new("--r") { Description = "Read consistency R for every get (default: random 1..N per request)" };
        public readonly Option<int?> W = new("--w") { Description = "Write consistency W for every set/delete (default: random 1..N per request)" };
        public readonly Option<int> Clients = new("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 8 };
        public readonly Option<int> Keys = new("--keys") { Description = "Size of the key space (power-law skewed: a few hot keys, a long cold tail)", DefaultValueFactory = _ => 200 };
        public readonly Option<int> Partitions = new("--partitions") { Description = "Partition count Q (power of two)", DefaultValueFactory = _ => 64 };
        public readonly Option<string?> Faults = new("--faults") { Description = "Fault kinds: partition,crash,drop,dup,reorder,disk,clock,buggify,membership or all (all = every kind but membership; default none)" };
        public readonly Option<string?> Plant = new("--plant") { Description = "Plant a deliberate bug: ack-before-durable, lww-no-tiebreak, read-ignores-r" };
        public readonly Option<long> AntiEntropyMs = new("--ae-interval-ms") { Description = "Background anti-entropy period per node, ms (0: off)", DefaultValueFactory = _ => 300 };
        public readonly Option<int?> MerkleDepth = new("--merkle-depth") { Description = "Merkle tree depth (2^depth leaves per partition; default: drawn per seed with the knobs, 2 with --knobs default)" };
        public readonly Option<string> Knobs = new("--knobs") { Description = "Engine limits and timeouts: drawn (per seed, so rare paths run) or default", DefaultValueFactory = _ => "drawn" };
        public readonly Option<long> GraceMs = new("--tombstone-grace-ms") { Description = "Tombstones older than this are purged", DefaultValueFactory = _ => 5_000 };
        public readonly Option<int> StrictPercent = new("--strict-percent") { Description = "Percent of requests that count primary replicas only (primaryRead/primaryWrite); the rest are sloppy", DefaultValueFactory = _ => 50 };
        public readonly Option<int?> Joiners = new("--joiners") { Description = "Spare nodes membership faults may join (default 2 with membership faults, else 0)" };
        public readonly Option<bool> Json = new("--json") { Description = "Print the result as one JSON object on the last line" };

        public void AddTo(Command command)
        {
            foreach (Option option in new Option[] { Nodes, Ops, N, R, W, Clients, Keys, Partitions, Faults, Plant, AntiEntropyMs, MerkleDepth, Knobs, GraceMs, Joiners, StrictPercent, Json })
            {
                command.Options.Add(option);
            }
        }

        public SimOptions Build(ParseResult parse)
        {
            int nodes = parse.GetValue(Nodes);
            var options = new SimOptions
            {
                Nodes = nodes,
                Operations = parse.GetValue(Ops),
                ReplicationFactor = parse.GetValue(N) ?? Math.Min(3, Math.Max(1, nodes)),
                ReadConsistency = parse.GetValue(R),
                WriteConsistency = parse.GetValue(W),
                Clients = parse.GetValue(Clients),
                Keys = parse.GetValue(Keys),
                Partitions = parse.GetValue(Partitions),
                Faults = FaultKindsParser.Parse(parse.GetValue(Faults)),
                Plant = PlantedBugParser.Parse(parse.GetValue(Plant)),
                AntiEntropyIntervalMs = parse.GetValue(AntiEntropyMs),
                MerkleDepth = parse.GetValue(MerkleDepth),
                DrawKnobs = parse.GetValue(Knobs) switch
                {
                    "drawn" => true,
                    "default" => false,
                    var other => throw new SimUsageException($"--knobs must be drawn or default, got {other}"),
                },
                TombstoneGraceMs = parse.GetValue(GraceMs),
                Joiners = parse.GetValue(Joiners),
                StrictPercent = parse.GetValue(StrictPercent),
            };
            options.Validate();
            return options;
        }
    }

    public static int Main(string[] args) => Run(args);

    public static int Run(string[] args)
    {
        var root = new RootCommand("Meteora deterministic simulator");
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(SweepCommand());
        root.Subcommands.Add(ShrinkCommand());
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
        catch (IOException e)
        {
            Console.Error.WriteLine($"meteora-sim: {e.Message}");
            return ExitUsage;
        }
    }

    private static Command RunCommand()
    {
        var shared = new RunOptions();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the run (the whole run is a function of it)", Required = true };
        var trace = new Option<string?>("--trace") { Description = "Write a readable per-event trace to this file" };
        var schedule = new Option<string?>("--schedule") { Description = "Run this JSON schedule (from shrink) instead of drawing one from the seed" };
        var timeline = new Option<string?>("--timeline") { Description = "Write a self-contained HTML timeline of the run (lanes per node, operations, messages, faults, violations) to this file" };
        var command = new Command("run", "Run one seeded simulation and check its invariants");
        command.Options.Add(seed);
        shared.AddTo(command);
        command.Options.Add(trace);
        command.Options.Add(schedule);
        command.Options.Add(timeline);
        command.SetAction(parse =>
        {
            SimOptions options = shared.Build(parse);
            Schedule? planned = parse.GetValue(schedule) is { } path ? LoadSchedule(path) : null;
            var outputs = new RunOutputs(parse.GetValue(shared.Json), parse.GetValue(trace), parse.GetValue(timeline));
            return RunOne(parse.GetValue(seed), options, planned, outputs, ReplayArgs(parse, "run"));
        });
        return command;
    }

    private static Command SweepCommand()
    {
        var shared = new RunOptions();
        var seeds = new Option<string>("--seeds") { Description = "Seed range A..B (inclusive)", Required = true };
        var command = new Command("sweep", "Run many seeds on every core; exit 1 if any failed");
        command.Options.Add(seeds);
        shared.AddTo(command);
        command.SetAction(parse =>
        {
            SimOptions options = shared.Build(parse);
            (ulong from, ulong to) = ParseRange(parse.GetValue(seeds)!);
            return Sweep(from, to, options, parse.GetValue(shared.Json), ReplayArgs(parse, "sweep"));
        });
        return command;
    }

    private static Command ShrinkCommand()
    {
        var shared = new RunOptions();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the failing run", Required = true };
        var output = new Option<string?>("--out") { Description = "Where to write the minimal schedule (default shrunk-seed-S.json)" };
        var command = new Command("shrink", "Reduce a failing run to a minimal schedule that still fails");
        command.Options.Add(seed);
        shared.AddTo(command);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            SimOptions options = shared.Build(parse);
            ulong s = parse.GetValue(seed);
            return Shrink(s, options, parse.GetValue(output) ?? $"shrunk-seed-{s}.json", ReplayArgs(parse, "shrink"));
        });
        return command;
    }

    /// <summary>What a run writes besides its summary: JSON, a trace file, a timeline page.</summary>
    private sealed record RunOutputs(bool Json, string? TracePath, string? TimelinePath);

    private static int RunOne(ulong seed, SimOptions options, Schedule? schedule, RunOutputs outputs, string replay)
    {
        SimResult result;
        StreamWriter? traceWriter = outputs.TracePath is null ? null : new StreamWriter(outputs.TracePath);
        Timeline.TimelineRecorder? recorder = outputs.TimelinePath is null ? null : new Timeline.TimelineRecorder();
        try
        {
            var cluster = new SimCluster(seed, options, traceWriter, schedule) { Timeline = recorder };
            result = cluster.Run();
            if (recorder is not null) Timeline.TimelineWriter.Write(outputs.TimelinePath!, cluster, result, recorder, replay);
        }
        finally
        {
            traceWriter?.Dispose();
        }
        if (!result.Ok)
        {
            Console.WriteLine($"FAILED seed={seed}");
            foreach (string violation in result.Violations) Console.WriteLine($"  {violation}");
            Console.WriteLine($"replay: meteora-sim {replay}");
            Console.WriteLine($"timeline: meteora-sim {TimelineCommand(replay, seed)}");
        }
        if (outputs.TimelinePath is not null) Console.WriteLine($"timeline written to {outputs.TimelinePath}");
        bool json = outputs.Json;
        if (json)
        {
            Console.WriteLine(result.ToJson());
        }
        else
        {
            double ratio = result.WallMs == 0 ? double.PositiveInfinity : (double)result.SimulatedMs / result.WallMs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed={seed} ok={result.Ok} events={result.Events} simulated={result.SimulatedMs}ms wall={result.WallMs}ms " +
                $"sim/wall={ratio:F1} opsOk={result.OpsOk} opsFailed={result.OpsFailed} skewDiscardedWrites={result.SkewDiscardedWrites} convergenceMs={result.ConvergenceMs?.ToString(CultureInfo.InvariantCulture) ?? "never"} tombstonesPurged={result.TombstonesPurged} hints={result.Hints.Stored}/{result.Hints.Delivered}/{result.Hints.Dropped}/{result.Hints.Obsolete} trace={result.TraceHash}"));
        }
        return result.Ok ? ExitOk : ExitViolation;
    }

    private static int Sweep(ulong from, ulong to, SimOptions options, bool json, string replay)
    {
        int count = checked((int)(to - from + 1));
        var results = new SimResult[count];
        int done = 0, failed = 0;
        bool progress = !Console.IsErrorRedirected;
        long wallStart = System.Diagnostics.Stopwatch.GetTimestamp();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            SimResult r = new SimCluster(from + (ulong)i, options).Run();
            results[i] = r;
            int d = Interlocked.Increment(ref done);
            int f = r.Ok ? Volatile.Read(ref failed) : Interlocked.Increment(ref failed);
            if (progress && (d % 10 == 0 || d == count))
            {
                lock (results) Console.Error.Write($"\r{d}/{count} seeds, {f} failed   ");
            }
        });
        if (progress) Console.Error.WriteLine();
        double wallSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(wallStart).TotalSeconds;

        var failedSeeds = new List<ulong>();
        foreach (SimResult r in results)
        {
            if (json) Console.WriteLine($"{{\"seed\":{r.Seed},\"ok\":{(r.Ok ? "true" : "false")},\"traceHash\":\"{r.TraceHash}\"}}");
            if (r.Ok) continue;
            failedSeeds.Add(r.Seed);
            Console.WriteLine($"FAILED seed={r.Seed}: {r.Violations[0]}");
            string rerun = replay.Replace("sweep --seeds", "run --seed").Replace($"{from}..{to}", r.Seed.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine($"  replay: meteora-sim {rerun}");
            Console.WriteLine($"  timeline: meteora-sim {TimelineCommand(rerun, r.Seed)}");
        }
        string summary = json
            ? $"{{\"seeds\":{count},\"passed\":{count - failedSeeds.Count},\"failed\":{failedSeeds.Count},\"failedSeeds\":[{string.Join(',', failedSeeds)}]}}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{count} seeds: {count - failedSeeds.Count} passed, {failedSeeds.Count} failed in {wallSeconds:F1}s ({count / wallSeconds * 60:F0} seeds/min)");
        Console.WriteLine(summary);
        return failedSeeds.Count == 0 ? ExitOk : ExitViolation;
    }

    private static int Shrink(ulong seed, SimOptions options, string outputPath, string replay)
    {
        var shrinker = new Shrinker(seed, options);
        Schedule original = ScheduleGenerator.Generate(seed, options);
        var shrunk = shrinker.Shrink(original);
        if (shrunk is null)
        {
            Console.WriteLine($"seed={seed} passes every check; nothing to shrink");
            return ExitOk;
        }
        var (schedule, result) = shrunk.Value;
        File.WriteAllText(outputPath, schedule.ToJson() + "\n");
        Console.WriteLine($"FAILED seed={seed}");
        Console.WriteLine($"shrunk from {original.Ops.Count} ops + {original.Faults.Count} faults + {original.BuggifySites.Count} buggify sites " +
            $"to {schedule.Ops.Count} ops + {schedule.Faults.Count} faults + {schedule.BuggifySites.Count} buggify sites in {shrinker.Runs} runs");
        foreach (Fault fault in schedule.Faults) Console.WriteLine($"  fault: {fault}");
        foreach (var site in schedule.BuggifySites) Console.WriteLine($"  buggify: {site}");
        for (int i = 0; i < schedule.Ops.Count; i++)
        {
            PlannedOp op = schedule.Ops[i];
            Console.WriteLine($"  op{i}: client{op.Client}@node{op.Coordinator} {op.Operation.ToString().ToLowerInvariant()} {op.Key} {(op.Operation == Meteora.Engine.Node.ClientOperation.Get ? "R" : "W")}={op.Consistency}");
        }
        foreach (string violation in result.Violations) Console.WriteLine($"  violation: {violation}");
        Console.WriteLine($"schedule written to {outputPath}");
        Console.WriteLine($"replay: meteora-sim {replay.Replace("shrink", "run")} --schedule {outputPath}");
        return ExitOk;
    }

    /// <summary>The replay command with <c>--timeline</c>, writing <c>timeline-seed-S.html</c> in the current directory.</summary>
    private static string TimelineCommand(string replay, ulong seed) =>
        $"{replay} --timeline timeline-seed-{seed.ToString(CultureInfo.InvariantCulture)}.html";

    private static Schedule LoadSchedule(string path)
    {
        if (!File.Exists(path)) throw new SimUsageException($"schedule file '{path}' does not exist");
        return Schedule.FromJson(File.ReadAllText(path));
    }

    private static (ulong From, ulong To) ParseRange(string text)
    {
        string[] parts = text.Split("..");
        if (parts.Length != 2
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong from)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong to)
            || to < from || to - from >= 10_000_000)
        {
            throw new SimUsageException($"--seeds must look like A..B with A <= B (at most 10,000,000 seeds), got '{text}'");
        }
        return (from, to);
    }

    /// <summary>The command line that reproduces this invocation, minus --json/--trace/--out/--timeline.</summary>
    private static string ReplayArgs(ParseResult parse, string verb)
    {
        var parts = new List<string> { verb };
        string[] tokens = parse.Tokens.Select(t => t.Value).ToArray();
        for (int i = 1; i < tokens.Length; i++)
        {
            if (tokens[i] is "--json") continue;
            if (tokens[i] is "--trace" or "--out" or "--timeline") { i++; continue; }
            parts.Add(tokens[i].Contains(' ') ? $"'{tokens[i]}'" : tokens[i]);
        }
        return string.Join(' ', parts);
    }
}
