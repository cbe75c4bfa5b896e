using System.Text;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;
using Xunit;

namespace Meteora.Tests.Sim;

/// <summary>
/// The shared checker on hand-made histories and replica snapshots, with no simulated cluster: the
/// same calls the real-mode nemesis harness makes. Each test breaks one invariant and expects the
/// matching kind, text and the operations and nodes it names.
/// </summary>
public sealed class SharedCheckerTests
{
    private static long _nextId;

    private static OpRecord Op(ClientOperation operation, string key, string? value, long invoke, long complete,
        ClientStatus status, long version, int consistency = 2, int coordinator = 0, string? result = null, bool primaryOnly = true) => new()
    {
        PrimaryOnly = primaryOnly,
        Id = Interlocked.Increment(ref _nextId),
        Client = 0,
        Coordinator = coordinator,
        Operation = operation,
        Key = key,
        Value = value is null ? null : Encoding.UTF8.GetBytes(value),
        Consistency = consistency,
        InvokeMicros = invoke,
        CompleteMicros = complete,
        Status = status,
        ResultVersion = version == 0 ? WriteVersion.Zero : new WriteVersion(version, (uint)coordinator),
        ResultValue = result is null ? null : Encoding.UTF8.GetBytes(result),
    };

    private static SnapshotReplicaView View(string key, params StoredValue?[] held) =>
        new(new Dictionary<string, IReadOnlyList<ReplicaValue>> { [key] = [.. held.Select((v, i) => new ReplicaValue(i, v))] });

    private static StoredValue Value(long version, string text) => new(new WriteVersion(version, 0), Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Lost_acknowledged_write_is_a_durability_violation_naming_the_write()
    {
        OpRecord write = Op(ClientOperation.Set, "k", "b", 10, 20, ClientStatus.Ok, 15);
        var violations = new List<Violation>();
        Checker.CheckDurability([write], View("k", Value(5, "a"), null, Value(5, "a")), new PurgeLog(), 100, violations);
        Violation v = Assert.Single(violations);
        Assert.Equal(ViolationKind.Durability, v.Kind);
        Assert.Equal([write.Id], v.OpIds);
        Assert.Equal([0, 1, 2], v.NodeIds);
        Assert.StartsWith("durability: key k ends at \"a\" v=5.0, but op#", v.Text, StringComparison.Ordinal);
    }

    /// <summary>Per key the newest acknowledged write counts, whatever order the writes completed in, and findings come out in key order.</summary>
    [Fact]
    public void Durability_compares_each_key_with_its_newest_acknowledged_write_and_reports_keys_in_order()
    {
        // "b": the newer write (v=30) completed first, the older (v=20) last: still v=30 must be held.
        OpRecord newerB = Op(ClientOperation.Set, "b", "new", 10, 40, ClientStatus.Ok, 30);
        OpRecord olderB = Op(ClientOperation.Set, "b", "old", 5, 50, ClientStatus.Ok, 20);
        OpRecord onlyA = Op(ClientOperation.Set, "a", "x", 10, 20, ClientStatus.Ok, 15);
        OpRecord failedC = Op(ClientOperation.Set, "c", "y", 10, 20, ClientStatus.Unavailable, 0);
        var replicas = new SnapshotReplicaView(new Dictionary<string, IReadOnlyList<ReplicaValue>>
        {
            ["b"] = [new ReplicaValue(0, Value(20, "old"))],
            ["a"] = [new ReplicaValue(1, Value(5, "stale"))],
            ["c"] = [new ReplicaValue(2, null)],
        });
        var violations = new List<Violation>();
        Checker.CheckDurability([newerB, olderB, onlyA, failedC], replicas, new PurgeLog(), 100, violations);
        Assert.Equal(2, violations.Count);
        Assert.Equal([onlyA.Id], violations[0].OpIds);
        Assert.Equal([newerB.Id], violations[1].OpIds);
        Assert.StartsWith("durability: key b ends at \"old\" v=20.0, but op#", violations[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Value_back_after_acknowledged_delete_is_a_resurrection()
    {
        OpRecord delete = Op(ClientOperation.Delete, "k", null, 10, 20, ClientStatus.Ok, 15);
        var violations = new List<Violation>();
        Checker.CheckDurability([delete], View("k", Value(5, "a")), new PurgeLog(), 100, violations);
        Assert.Equal(ViolationKind.Resurrection, Assert.Single(violations).Kind);
    }

    [Fact]
    public void Absent_key_after_its_tombstone_was_purged_is_not_a_loss()
    {
        OpRecord delete = Op(ClientOperation.Delete, "k", null, 10, 20, ClientStatus.Ok, 15);
        var purges = new PurgeLog();
        purges.Record("k", new WriteVersion(15, 0), 50);
        var violations = new List<Violation>();
        Checker.CheckDurability([delete], View("k", null, null), purges, 100, violations);
        Assert.Empty(violations);
        Checker.CheckDurability([delete], View("k", null, null), purges, 40, violations);
        Assert.Equal(ViolationKind.Durability, Assert.Single(violations).Kind);
    }

    [Fact]
    public void Replicas_that_differ_are_a_convergence_violation_naming_both_nodes()
    {
        OpRecord write = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        var violations = new List<Violation>();
        Checker.CheckConvergence([write], View("k", Value(5, "a"), Value(5, "a"), null), violations);
        Violation v = Assert.Single(violations);
        Assert.Equal(ViolationKind.Convergence, v.Kind);
        Assert.Equal([0, 2], v.NodeIds);
        Assert.Equal("convergence: key k is \"a\" v=5.0 on node0 but absent on node2", v.Text);
    }

    [Fact]
    public void Read_of_a_value_nobody_wrote_is_invented_data()
    {
        OpRecord write = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        OpRecord read = Op(ClientOperation.Get, "k", null, 30, 40, ClientStatus.Ok, 5, result: "zzz");
        var violations = new List<Violation>();
        Checker.CheckNoInventedData([write, read], violations);
        Violation v = Assert.Single(violations);
        Assert.Equal(ViolationKind.InventedData, v.Kind);
        Assert.Equal([read.Id], v.OpIds);
    }

    [Fact]
    public void A_value_written_only_to_another_key_is_invented_data_and_a_matching_read_is_not()
    {
        OpRecord write = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        OpRecord elsewhere = Op(ClientOperation.Get, "k2", null, 30, 40, ClientStatus.Ok, 5, result: "a");
        OpRecord matching = Op(ClientOperation.Get, "k", null, 30, 40, ClientStatus.Ok, 5, result: "a");
        var violations = new List<Violation>();
        Checker.CheckNoInventedData([write, elsewhere, matching], violations);
        Violation v = Assert.Single(violations);
        Assert.Equal([elsewhere.Id], v.OpIds);
        Assert.Contains("returned \"a\", which no set of k2 wrote", v.Text);
    }

    [Fact]
    public void A_written_value_read_back_with_another_version_is_invented_data_naming_the_write()
    {
        OpRecord write = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        OpRecord read = Op(ClientOperation.Get, "k", null, 30, 40, ClientStatus.Ok, 9, result: "a");
        var violations = new List<Violation>();
        Checker.CheckNoInventedData([write, read], violations);
        Violation v = Assert.Single(violations);
        Assert.Equal([read.Id, write.Id], v.OpIds);
        Assert.Contains("returned \"a\" with version", v.Text);
    }

    [Fact]
    public void Quorum_read_older_than_an_earlier_acknowledged_write_is_stale_and_names_both()
    {
        OpRecord first = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        OpRecord second = Op(ClientOperation.Set, "k", "b", 30, 40, ClientStatus.Ok, 35);
        OpRecord read = Op(ClientOperation.Get, "k", null, 50, 60, ClientStatus.Ok, 5, result: "a");
        var violations = new List<Violation>();
        Checker.CheckFreshness([first, second, read], 3, new PurgeLog(), violations);
        Violation v = Assert.Single(violations);
        Assert.Equal(ViolationKind.Freshness, v.Kind);
        Assert.Equal([read.Id, second.Id], v.OpIds);
        // R=1 with W=2 of N=3 does not intersect: no freshness promise.
        var weak = Op(ClientOperation.Get, "k", null, 50, 60, ClientStatus.Ok, 5, consistency: 1, result: "a");
        violations.Clear();
        Checker.CheckFreshness([first, second, weak], 3, new PurgeLog(), violations);
        Assert.Empty(violations);
    }

    /// <summary>A sloppy quorum (fallbacks counted) does not intersect a later quorum until its hints are delivered: neither side is checked.</summary>
    [Fact]
    public void Freshness_checks_only_strict_reads_against_strict_writes()
    {
        OpRecord strictWrite = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 5);
        OpRecord sloppyWrite = Op(ClientOperation.Set, "k", "b", 30, 40, ClientStatus.Ok, 35, primaryOnly: false);
        OpRecord sloppyRead = Op(ClientOperation.Get, "k", null, 50, 60, ClientStatus.NotFound, 0, primaryOnly: false);
        OpRecord strictRead = Op(ClientOperation.Get, "k", null, 50, 60, ClientStatus.Ok, 5, result: "a");
        var violations = new List<Violation>();
        Checker.CheckFreshness([strictWrite, sloppyWrite, sloppyRead, strictRead], 3, new PurgeLog(), violations);
        Assert.Empty(violations); // the strict read saw the strict write; the sloppy write and read promise nothing

        OpRecord staleStrictRead = Op(ClientOperation.Get, "k", null, 50, 60, ClientStatus.NotFound, 0);
        Checker.CheckFreshness([strictWrite, sloppyWrite, staleStrictRead], 3, new PurgeLog(), violations);
        Violation v = Assert.Single(violations);
        Assert.Equal([staleStrictRead.Id, strictWrite.Id], v.OpIds);
    }

    [Fact]
    public void Write_acknowledged_after_a_newer_one_completed_counts_as_skew_discarded()
    {
        OpRecord first = Op(ClientOperation.Set, "k", "a", 10, 20, ClientStatus.Ok, 100);
        OpRecord later = Op(ClientOperation.Set, "k", "b", 30, 40, ClientStatus.Ok, 50);
        Assert.Equal(1, Checker.CountSkewDiscardedWrites([first, later]));
        Assert.Equal(0, Checker.CountSkewDiscardedWrites([first]));
    }

    [Fact]
    public void More_than_five_findings_of_one_check_end_in_one_summary_line()
    {
        var ops = Enumerable.Range(0, 8).Select(i => new OpRecord
        {
            Id = i, Client = 0, Coordinator = 1, Operation = ClientOperation.Get, Key = "k" + i, Consistency = 1, InvokeMicros = 0,
        }).ToList();
        var violations = new List<Violation>();
        Checker.CheckCompletion(ops, violations);
        Assert.Equal(6, violations.Count);
        Assert.Equal("... and 3 more like the above", violations[5].Text);
        Assert.Empty(violations[5].OpIds);
        Assert.Equal(3, violations[5].Count);
        Assert.Equal(8, violations.Sum(v => v.Count));
        Assert.All(violations, v => Assert.Equal(ViolationKind.Completion, v.Kind));
    }
}
