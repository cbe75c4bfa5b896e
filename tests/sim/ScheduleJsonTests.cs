using System.Text.Json;
using System.Text.Json.Serialization;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;
using Meteora.Sim;
using Xunit;

namespace Meteora.Tests.Sim;

/// <summary>
/// The schedule's compile-time JSON (needed for the ahead-of-time compiled simulator) must read and
/// write exactly what the reflection serializer did, so shrunk schedules saved before still replay.
/// </summary>
public sealed class ScheduleJsonTests
{
    /// <summary>The options schedules were written with before the source-generated form.</summary>
    private static readonly JsonSerializerOptions ReflectionJson = new()
    {
        WriteIndented = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static Schedule EveryKind() => new(
        [
            new PlannedOp(0, ClientOperation.Get, "k1", 2, 1),
            new PlannedOp(1, ClientOperation.Set, "k2", 3, 0, PrimaryOnly: true),
            new PlannedOp(2, ClientOperation.Delete, "k\"3", 1, 2),
        ],
        [
            new PartitionFault(10, 20, [0, 1], [2], OneWay: true),
            new CrashFault(30, [1, 2], 40),
            new LinkFault(50, 60, 0.25, 0.125, 0.5, 700),
            new DiskFault(80, 90, 2, 0.75, 0.0625),
            new ClockFault(100, 1, -250, 300, 1000),
            new JoinFault(110, 5, 0),
            new LeaveFault(120, 4),
            new RemoveFault(130, 3, 1),
        ],
        Enum.GetValues<BuggifySite>());

    [Fact]
    public void Writes_what_the_reflection_serializer_wrote()
    {
        Schedule schedule = EveryKind();
        string expected = JsonSerializer.Serialize(schedule, ReflectionJson);
        Assert.Equal(expected, schedule.ToJson());
        Assert.Contains("\"kind\":\"partition\"", expected);
        Assert.Contains("\"operation\":\"delete\"", expected);
    }

    [Fact]
    public void Reads_back_every_fault_kind_and_enum()
    {
        Schedule schedule = EveryKind();
        Schedule read = Schedule.FromJson(JsonSerializer.Serialize(schedule, ReflectionJson));
        Assert.Equal(schedule.Ops, read.Ops);
        Assert.Equal(schedule.BuggifySites, read.BuggifySites);
        Assert.Equal(schedule.Faults.Select(f => f.ToString()), read.Faults.Select(f => f.ToString()));
        Assert.Equal(schedule.Faults.Select(f => f.GetType()), read.Faults.Select(f => f.GetType()));
    }

    [Fact]
    public void A_stored_schedule_reads_the_same_both_ways()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Schedules", "restart-before-heal.json");
        string json = File.ReadAllText(path);
        Schedule generated = Schedule.FromJson(json);
        Schedule reflected = JsonSerializer.Deserialize<Schedule>(json, ReflectionJson)!;
        Assert.Equal(JsonSerializer.Serialize(reflected, ReflectionJson), generated.ToJson());
    }

    [Fact]
    public void An_unknown_enum_name_is_a_usage_error()
    {
        var e = Assert.Throws<SimUsageException>(() => Schedule.FromJson("{\"ops\":[{\"client\":0,\"operation\":\"explode\",\"key\":\"k\",\"consistency\":1,\"coordinator\":0}],\"faults\":[],\"buggifySites\":[]}"));
        Assert.Contains("schedule is not valid", e.Message);
    }
}
