using System.Text.Json;
using System.Text.Json.Serialization;
using Meteora.Engine.Node;
using Meteora.Engine.Runtime;

namespace Meteora.Sim;

/// <summary>
/// The schedule's JSON form, generated at compile time instead of by reflection, so that the
/// simulator also runs as a native (ahead-of-time compiled) program: bench/sim-speed.sh measures it
/// that way. Names are camelCase and enums are camelCase strings, as schedule files have always been.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = false,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    Converters = [typeof(CamelCaseEnumConverter<ClientOperation>), typeof(CamelCaseEnumConverter<BuggifySite>)])]
[JsonSerializable(typeof(Schedule))]
internal sealed partial class ScheduleJson : JsonSerializerContext;

/// <summary>An enum written as its camelCase name (a converter type the source generator can create).</summary>
internal sealed class CamelCaseEnumConverter<TEnum> : JsonStringEnumConverter<TEnum> where TEnum : struct, Enum
{
    public CamelCaseEnumConverter() : base(JsonNamingPolicy.CamelCase)
    {
    }
}
