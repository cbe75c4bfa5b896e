using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;
using Meteora.Nemesis;

namespace Meteora.Tests.Nemesis;

/// <summary>The nemesis harness's parts that need no root: options, the seeded fault plan, parsing node replies, the report.</summary>
public sealed class HarnessPartsTests
{
    private static NemesisOptions Parse(params string[] args) => NemesisOptions.Parse([.. args, "--meteora", "/x/meteora.dll"]);

    [Fact]
    public void OptionsParseAndRepeatCommandRoundTrips()
    {
        NemesisOptions options = Parse("--seed", "42", "--nodes", "5", "--duration-s", "90", "--faults", "kill,partition", "--plant", "read-ignores-r");
        Assert.Equal(42UL, options.Seed);
        Assert.Equal([FaultKind.Kill, FaultKind.Partition], options.Faults);
        Assert.Equal(PlantedBug.ReadIgnoresR, options.Plant);
        Assert.Equal("tests/nemesis/run --seed 42 --nodes 5 --duration-s 90 --faults kill,partition --plant read-ignores-r", options.RepeatCommand());
        string[] again = options.RepeatCommand().Split(' ')[1..];
        Assert.Equal(options.RepeatCommand(), Parse(again).RepeatCommand());
        Assert.Empty(Parse("--faults", "none").Faults);
        Assert.Equal(FaultKinds.All, Parse("--faults", "all").Faults);
    }

    [Theory]
    [InlineData("--nodes", "2", "--nodes must be an integer in 3..9, got '2'")]
    [InlineData("--seed", "-1", "--seed must be a non-negative integer, got '-1'")]
    [InlineData("--faults", "meteor", "unknown fault 'meteor'")]
    [InlineData("--plant", "typo", "--plant must be")]
    [InlineData("--frobnicate", "1", "unknown option '--frobnicate'")]
    [InlineData("--duration-s", "5", "--duration-s must be an integer in 10..86400, got '5'")]
    public void BadOptionsAreUsageErrorsNamingTheProblem(string flag, string value, string expected)
    {
        UsageException e = Assert.Throws<UsageException>(() => Parse(flag, value));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingValueAndMissingNodeProgramAreUsageErrors()
    {
        Assert.Contains("--seed needs a value", Assert.Throws<UsageException>(() => NemesisOptions.Parse(["--seed"])).Message, StringComparison.Ordinal);
        Assert.Contains("unknown option '--bogus'", Assert.Throws<UsageException>(() => NemesisOptions.Parse(["--bogus"])).Message, StringComparison.Ordinal);
        Assert.Contains("--meteora", Assert.Throws<UsageException>(() => NemesisOptions.Parse(["--seed", "1"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FaultPlanIsAFunctionOfTheSeedAndRespectsItsBounds()
    {
        const long durationMs = 120_000;
        IReadOnlyList<FaultStep> a = FaultPlan.Generate(7, 5, durationMs, FaultKinds.All);
        IReadOnlyList<FaultStep> b = FaultPlan.Generate(7, 5, durationMs, FaultKinds.All);
        IReadOnlyList<FaultStep> other = FaultPlan.Generate(8, 5, durationMs, FaultKinds.All);
        Assert.Equal(a.Select(s => s.ToString() + s.StartMs), b.Select(s => s.ToString() + s.StartMs));
        Assert.NotEqual(a.Select(s => s.ToString() + s.StartMs), other.Select(s => s.ToString() + s.StartMs));
        Assert.True(a.Count >= 8, $"only {a.Count} faults in 120 s");
        long previousEnd = 0;
        foreach (FaultStep step in a)
        {
            Assert.True(previousEnd == 0 ? step.StartMs >= FaultPlan.WarmUpMs : step.StartMs >= previousEnd + FaultPlan.MinGapMs, $"fault #{step.Index} too early");
            // The last fault stretches to the end of the workload: at most one more gap and fault's worth.
            long extra = step == a[^1] ? FaultPlan.MaxGapMs + FaultPlan.MinFaultMs : 0;
            Assert.InRange(step.DurationMs, FaultPlan.MinFaultMs, step.Kind == FaultKind.Pause ? FaultPlan.MaxPauseMs : FaultPlan.MaxFaultMs + extra);
            Assert.True(step.StartMs + step.DurationMs <= durationMs - FaultPlan.CoolDownMs);
            previousEnd = step.StartMs + step.DurationMs;
        }
        FaultStep last = a[^1];
        Assert.True(last.StartMs + last.DurationMs == durationMs || last.Kind == FaultKind.Pause, $"last fault {last} ends before the workload");
        Assert.Empty(FaultPlan.Generate(7, 5, durationMs, []));
        Assert.All(FaultPlan.Generate(3, 5, durationMs, [FaultKind.Disk]), s => Assert.Equal(FaultKind.Disk, s.Kind));
    }

    [Fact]
    public void PartitionsCutOnlyBetweenDistinctNodesAndHalvesCutBothWays()
    {
        var partitions = Enumerable.Range(0, 50).SelectMany(seed => FaultPlan.Generate((ulong)seed, 5, 60_000, [FaultKind.Partition])).ToList();
        Assert.Contains(partitions, p => p.Variant.StartsWith("halves", StringComparison.Ordinal));
        Assert.Contains(partitions, p => p.Variant.StartsWith("isolate", StringComparison.Ordinal));
        Assert.Contains(partitions, p => p.Variant.StartsWith("one-way", StringComparison.Ordinal));
        foreach (FaultStep step in partitions)
        {
            Assert.NotEmpty(step.Cuts);
            Assert.All(step.Cuts, c => Assert.NotEqual(c.From, c.To));
            Assert.All(step.Cuts, c => Assert.InRange(c.From, 0, 4));
            bool symmetric = step.Cuts.All(c => step.Cuts.Contains(new Cut(c.To, c.From)));
            Assert.Equal(!step.Variant.StartsWith("one-way", StringComparison.Ordinal), symmetric);
        }
    }

    [Fact]
    public void VersionsAndReplicaRepliesParseBackToEngineValues()
    {
        JsonElement set = JsonDocument.Parse("""{"key":"k","version":"1795869693075136.3"}""").RootElement;
        Assert.Equal(new WriteVersion(1795869693075136, 3), MeteoraClient.ParseVersion(set));
        Assert.Equal(WriteVersion.Zero, MeteoraClient.ParseVersion(JsonDocument.Parse("""{"error":"x","version":null}""").RootElement));
        Assert.Throws<FormatException>(() => MeteoraClient.ParseVersion(JsonDocument.Parse("""{"version":"12"}""").RootElement));

        StoredValue? value = ReplicaSnapshot.Parse(JsonDocument.Parse(
            """{"key":"k","exists":true,"tombstone":false,"value":"v1","version":"5.1"}""").RootElement);
        Assert.Equal(new StoredValue(new WriteVersion(5, 1), "v1"u8.ToArray()), value);
        StoredValue? tombstone = ReplicaSnapshot.Parse(JsonDocument.Parse(
            """{"key":"k","exists":true,"tombstone":true,"value":null,"version":"6.2"}""").RootElement);
        Assert.Equal(StoredValue.Tombstone(new WriteVersion(6, 2)), tombstone);
        Assert.Null(ReplicaSnapshot.Parse(JsonDocument.Parse("""{"key":"k","exists":false,"tombstone":false}""").RootElement));
    }

    [Fact]
    public void ReportCountsFindingsByKindIncludingSummarizedOnesAndEndsInOneJsonLine()
    {
        var options = Parse("--seed", "9");
        OpRecord acked = new()
        {
            Id = 1, Client = 0, Coordinator = 0, Operation = ClientOperation.Set, Key = "k", Value = "v"u8.ToArray(),
            Consistency = 2, InvokeMicros = 1, CompleteMicros = 2, Status = ClientStatus.Ok, ResultVersion = new WriteVersion(2, 0),
        };
        var violations = new List<Violation>
        {
            new(ViolationKind.Durability, "durability: lost", [1], [0]),
            new(ViolationKind.Freshness, "freshness: stale", [1], [0]),
            new(ViolationKind.Freshness, "... and 7 more like the above", [], []) { Count = 7 },
        };
        RunReport report = RunReport.From(options, [acked], violations, skewDiscarded: 3, converged: false, faultsApplied: 4, "/tmp/x");
        string json = report.ToJson();
        Assert.DoesNotContain('\n', json);
        JsonElement root = JsonDocument.Parse(json).RootElement;
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(1, root.GetProperty("ackedWrites").GetInt32());
        Assert.Equal(1, root.GetProperty("lostAckedWrites").GetInt32());
        Assert.Equal(8, root.GetProperty("staleReads").GetInt32());
        Assert.Equal(3, root.GetProperty("skewDiscardedWrites").GetInt32());
        Assert.False(root.GetProperty("converged").GetBoolean());
        Assert.Equal(3, root.GetProperty("violations").GetArrayLength());
        foreach (string field in new[] { "seed", "opsOk", "opsFailed", "resurrected", "invented" }) Assert.True(root.TryGetProperty(field, out _), field);
    }
}
