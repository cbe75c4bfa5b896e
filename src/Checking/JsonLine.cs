using System.Text;
using System.Text.Json;

namespace Meteora.Checking;

/// <summary>
/// The one-line JSON summaries the simulator and the nemesis end with: one object, relaxed escaping
/// (read by people and by jq, never embedded in HTML), violations as their one-line texts.
/// </summary>
public static class JsonLine
{
    public static string Object(Action<Utf8JsonWriter> writeFields)
    {
        ArgumentNullException.ThrowIfNull(writeFields);
        using var stream = new MemoryStream();
        var writerOptions = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(stream, writerOptions))
        {
            json.WriteStartObject();
            writeFields(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static void WriteViolations(Utf8JsonWriter json, IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(texts);
        json.WriteStartArray("violations");
        foreach (string text in texts) json.WriteStringValue(text);
        json.WriteEndArray();
    }
}
