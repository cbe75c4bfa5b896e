using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;
using Meteora.Sim;

namespace Meteora.Tests.Sim;

/// <summary>
/// Fault schedules generated directly by FsCheck, so FsCheck's shrinker works on them: drop a fault,
/// a buggify site or an operation at a time.
/// </summary>
public sealed class ScheduleProperties
{
    internal static readonly SimOptions Options = new() { Nodes = 4, Clients = 4, Keys = 4, Operations = 0 };

    private static Gen<PlannedOp> Op =>
        from client in Gen.Choose(0, Options.Clients - 1)
        from kind in Gen.Elements(ClientOperation.Get, ClientOperation.Set, ClientOperation.Set, ClientOperation.Delete)
        from key in Gen.Choose(0, Options.Keys - 1)
        from consistency in Gen.Choose(1, 3)
        from coordinator in Gen.Choose(0, Options.Nodes - 1)
        select new PlannedOp(client, kind, "k" + key, consistency, coordinator);

    private static Gen<int[]> Nodes => Gen.SubListOf(Enumerable.Range(0, Options.Nodes).ToArray())
        .Where(l => l.Count > 0).Select(l => l.ToArray());

    private static Gen<Fault> AnyFault =>
        Gen.OneOf(
            from at in Gen.Choose(0, 300) from duration in Gen.Choose(10, 400) from cut in Gen.Choose(1, Options.Nodes - 1)
            from oneWay in ArbMap.Default.GeneratorFor<bool>()
            select (Fault)new PartitionFault(at, duration, Enumerable.Range(0, cut).ToArray(), Enumerable.Range(cut, Options.Nodes - cut).ToArray(), oneWay),
            from at in Gen.Choose(0, 300) from nodes in Nodes from down in Gen.Choose(5, 300)
            select (Fault)new CrashFault(at, nodes, down),
            from at in Gen.Choose(0, 300) from duration in Gen.Choose(10, 300) from drop in Gen.Choose(0, 50) from dup in Gen.Choose(0, 30)
            select (Fault)new LinkFault(at, duration, drop / 100.0, dup / 100.0, 0.05, 2000),
            from at in Gen.Choose(0, 300) from duration in Gen.Choose(10, 300) from node in Gen.Choose(0, Options.Nodes - 1) from fail in Gen.Choose(0, 30)
            select (Fault)new DiskFault(at, duration, node, 0.3, fail / 100.0),
            from at in Gen.Choose(0, 300) from node in Gen.Choose(0, Options.Nodes - 1) from jump in Gen.Choose(-500, 500)
            from coarse in ArbMap.Default.GeneratorFor<bool>()
            select (Fault)new ClockFault(at, node, jump, 100, coarse ? 1000 : 1));

    private static IEnumerable<Schedule> ShrinkSchedule(Schedule s)
    {
        for (int i = 0; i < s.Faults.Count; i++) yield return s with { Faults = s.Faults.Where((_, j) => j != i).ToList() };
        for (int i = 0; i < s.BuggifySites.Count; i++) yield return s with { BuggifySites = s.BuggifySites.Where((_, j) => j != i).ToList() };
        if (s.Ops.Count > 1) yield return s with { Ops = s.Ops.Take(s.Ops.Count / 2).ToList() };
        for (int i = 0; i < s.Ops.Count; i++) yield return s with { Ops = s.Ops.Where((_, j) => j != i).ToList() };
    }

    public static Arbitrary<Schedule> Schedules() =>
        Arb.From(
            from ops in Gen.ListOf(Op).Resize(120)
            from faults in Gen.ListOf(AnyFault).Resize(6)
            from sites in Gen.SubListOf(Enum.GetValues<BuggifySite>())
            select new Schedule(ops.ToList(), faults.ToList(), sites.ToList()),
            ShrinkSchedule);

    [Property(Arbitrary = [typeof(ScheduleProperties)], MaxTest = 60)]
    public void Any_schedule_keeps_every_invariant(Schedule schedule, uint seed)
    {
        SimResult result = new SimCluster(seed, Options, schedule: schedule).Run();
        Assert.True(result.Ok, string.Join("\n", result.Violations) + "\n" + schedule.ToJson());
    }

    /// <summary>
    /// Regression (FsCheck seed (13833217037207240152,3904577411289393881,37)): two nodes restarted just
    /// before healing were still suspected when the liveness reads began, so R=3 reads failed at once.
    /// </summary>
    [Fact]
    public void Liveness_reads_wait_until_no_running_node_is_suspected()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Schedules", "restart-before-heal.json");
        SimResult result = new SimCluster(7, Options, schedule: Schedule.FromJson(File.ReadAllText(path))).Run();
        Assert.True(result.Ok, string.Join("\n", result.Violations));
    }

    [Fact]
    public void FsCheck_finds_and_shrinks_a_planted_bug()
    {
        SimOptions planted = Options with { Plant = PlantedBug.AckBeforeDurable };
        Schedule? smallest = null;
        var property = Prop.ForAll(Schedules(), schedule =>
        {
            bool ok = new SimCluster(7, planted, schedule: schedule).Run().Ok;
            if (!ok && (smallest is null || schedule.Size < smallest.Size)) smallest = schedule;
            return ok;
        });
        var e = Assert.ThrowsAny<Exception>(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(100)));
        Assert.Contains("Falsifiable", e.Message);
        Assert.NotNull(smallest);
        Assert.True(smallest!.Ops.Count <= 2 && smallest.Faults.Count == 0, smallest.ToJson());
    }
}
