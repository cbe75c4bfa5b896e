using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Engine.Protocol;

namespace Meteora.Sim.Timeline;

/// <summary>
/// Writes <c>--timeline FILE.html</c>: one self-contained page (inline script and style, the run's data
/// as JSON in a script tag; nothing is fetched) that draws one lane per node over virtual time,
/// operations as spans, messages as arrows, faults as shaded periods and the violations' operations
/// and replicas highlighted. The page is the embedded resources <c>timeline.html</c>, <c>.css</c> and <c>.js</c>.
/// </summary>
public static class TimelineWriter
{
    private const string ResourcePrefix = "Meteora.Sim.Timeline.";
    private const string DataPlaceholder = "\"__TIMELINE_DATA__\"";
    private const string StylePlaceholder = "/* __TIMELINE_STYLE__ */";
    private const string ScriptPlaceholder = "// __TIMELINE_SCRIPT__";

    public static void Write(string path, SimCluster cluster, SimResult result, TimelineRecorder recorder, string replayCommand)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(recorder);
        string template = LoadTemplate();
        int at = template.IndexOf(DataPlaceholder, StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException($"timeline template lacks {DataPlaceholder}");
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        using (var head = new StreamWriter(file, new UTF8Encoding(false), leaveOpen: true)) head.Write(template.AsSpan(0, at));
        // The default encoder escapes <, > and &, so the JSON cannot close the script tag it sits in.
        using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Encoder = JavaScriptEncoder.Default }))
        {
            WriteData(json, cluster, result, recorder, replayCommand);
        }
        using var tail = new StreamWriter(file, new UTF8Encoding(false));
        tail.Write(template.AsSpan(at + DataPlaceholder.Length));
    }

    /// <summary>The page with its style and script inlined (kept as separate resources only to keep each file small).</summary>
    private static string LoadTemplate() => Resource("timeline.html")
        .Replace(StylePlaceholder, Resource("timeline.css"), StringComparison.Ordinal)
        .Replace(ScriptPlaceholder, Resource("timeline.js"), StringComparison.Ordinal);

    private static string Resource(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"embedded resource {ResourcePrefix + name} is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static void WriteData(Utf8JsonWriter json, SimCluster cluster, SimResult result, TimelineRecorder recorder, string replayCommand)
    {
        json.WriteStartObject();
        json.WriteNumber("seed", result.Seed);
        json.WriteBoolean("ok", result.Ok);
        json.WriteString("command", replayCommand);
        json.WriteString("traceHash", result.TraceHash);
        json.WriteNumber("nodes", cluster.Options.Nodes);
        json.WriteNumber("endMicros", Relative(cluster.NowMicros));
        json.WriteNumber("healedMicros", Relative(cluster.HealedAtMicros));
        WriteOps(json, cluster.History.Operations, cluster.NowMicros);
        WriteMessages(json, recorder);
        WriteFaults(json, recorder.Faults);
        WriteViolations(json, result.Findings);
        json.WriteEndObject();
    }

    private static long Relative(long micros) => micros - SimCluster.EpochMicros;

    /// <summary>Each op as [id, client (-1: the checker), coordinator, operation, key, R/W, invoked, completed (-1: never), outcome, acks, error].</summary>
    private static void WriteOps(Utf8JsonWriter json, IReadOnlyList<OpRecord> ops, long nowMicros)
    {
        json.WriteStartArray("ops");
        foreach (OpRecord op in ops)
        {
            json.WriteStartArray();
            json.WriteNumberValue(op.Id);
            json.WriteNumberValue(op.Quiescence ? -1 : op.Client);
            json.WriteNumberValue(op.Coordinator);
            json.WriteStringValue(op.Operation switch { ClientOperation.Get => "get", ClientOperation.Set => "set", _ => "delete" });
            json.WriteStringValue(op.Key);
            json.WriteNumberValue(op.Consistency);
            json.WriteNumberValue(Relative(op.InvokeMicros));
            json.WriteNumberValue(op.Completed ? Relative(op.CompleteMicros) : -1);
            json.WriteStringValue(Outcome(op));
            json.WriteNumberValue(op.Acks);
            if (op.Error is null) json.WriteNullValue();
            else json.WriteStringValue(op.Error);
            json.WriteEndArray();
        }
        json.WriteEndArray();
    }

    private static string Outcome(OpRecord op) => op.Status switch
    {
        null => "incomplete",
        ClientStatus.Ok => "ok",
        ClientStatus.NotFound => "not_found",
        ClientStatus.Unavailable => "unavailable",
        _ => "invalid",
    };

    /// <summary>Message kinds as a name table, then each message as [sent, arrived, from, to, kind index, fate, keys (NUL-separated) or null].</summary>
    private static void WriteMessages(Utf8JsonWriter json, TimelineRecorder recorder)
    {
        (List<MessageRecord> chosen, string filter) = TimelineMessages.Choose(recorder.Messages, recorder.MessagesSeen);
        json.WriteStartObject("messages");
        json.WriteNumber("seen", recorder.MessagesSeen);
        json.WriteString("filter", filter);
        json.WriteStartArray("kinds");
        foreach (MessageKind kind in Enum.GetValues<MessageKind>()) json.WriteStringValue(kind.ToString());
        json.WriteEndArray();
        json.WriteStartArray("clientPathKinds");
        foreach (MessageKind kind in Enum.GetValues<MessageKind>())
        {
            if (TimelineMessages.IsClientPath(kind)) json.WriteStringValue(kind.ToString());
        }
        json.WriteEndArray();
        MessageKind[] kinds = Enum.GetValues<MessageKind>();
        json.WriteStartArray("items");
        foreach (MessageRecord m in chosen)
        {
            json.WriteStartArray();
            json.WriteNumberValue(Relative(m.SendMicros));
            json.WriteNumberValue(Relative(m.ArriveMicros));
            json.WriteNumberValue(m.From);
            json.WriteNumberValue(m.To);
            json.WriteNumberValue(Array.IndexOf(kinds, m.Kind));
            json.WriteStringValue(m.Fate.ToString().ToLowerInvariant());
            if (m.Keys is null) json.WriteNullValue();
            else json.WriteStringValue(m.Keys);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteFaults(Utf8JsonWriter json, IReadOnlyList<FaultRecord> faults)
    {
        json.WriteStartArray("faults");
        foreach (FaultRecord fault in faults)
        {
            json.WriteStartObject();
            json.WriteString("kind", fault.Kind);
            json.WriteString("text", fault.Text);
            json.WriteStartArray("nodes");
            foreach (int node in fault.Nodes) json.WriteNumberValue(node);
            json.WriteEndArray();
            json.WriteNumber("start", Relative(fault.StartMicros));
            // A period still open at the end of the run (a run that stopped early) lasts to its end.
            json.WriteNumber("end", fault.EndMicros < 0 ? -1 : Relative(fault.EndMicros));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>Each violation with the operations and nodes the checker says it names (highlighted on the page).</summary>
    private static void WriteViolations(Utf8JsonWriter json, IReadOnlyList<Violation> violations)
    {
        json.WriteStartArray("violations");
        foreach (Violation violation in violations)
        {
            json.WriteStartObject();
            json.WriteString("kind", ViolationKinds.Label(violation.Kind));
            json.WriteString("text", violation.Text);
            if (violation.Key is null) json.WriteNull("key");
            else json.WriteString("key", violation.Key);
            json.WriteStartArray("ops");
            foreach (long op in violation.OpIds) json.WriteNumberValue(op);
            json.WriteEndArray();
            json.WriteStartArray("nodes");
            foreach (int node in violation.NodeIds) json.WriteNumberValue(node);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
