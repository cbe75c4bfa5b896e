using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Meteora.Net.Http;

/// <summary>
/// Parses a set body, <c>{"key":"..","value":".."}</c>. Both fields must be JSON strings; other
/// properties are ignored (as JSON APIs usually do). Returns an error message naming the problem, or null.
/// </summary>
public static class SetBodyParser
{
    private const int MaxDepth = 16;

    public static string? TryParse(ReadOnlySequence<byte> body, out string? key, out byte[]? value)
    {
        key = null;
        value = null;
        if (body.IsEmpty) return "request body is empty; expected {\"key\":\"..\",\"value\":\"..\"}";
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "request body must be a JSON object {\"key\":\"..\",\"value\":\"..\"}";
            }
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                bool isKey = reader.ValueTextEquals("key"u8);
                bool isValue = !isKey && reader.ValueTextEquals("value"u8);
                reader.Read();
                if (isKey)
                {
                    if (reader.TokenType != JsonTokenType.String) return $"\"key\" must be a JSON string, got {Describe(reader.TokenType)}";
                    key = reader.GetString();
                }
                else if (isValue)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return reader.TokenType == JsonTokenType.Null
                            ? "\"value\" must be a JSON string, got null (use DELETE /meteora/delete/{key} to remove a key)"
                            : $"\"value\" must be a JSON string, got {Describe(reader.TokenType)}";
                    }
                    value = Encoding.UTF8.GetBytes(reader.GetString()!);
                }
                else
                {
                    reader.Skip();
                }
            }
            // Anything but whitespace after the object makes the reader throw.
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            return $"request body is not valid JSON: {e.Message}";
        }
        catch (InvalidOperationException e)
        {
            // GetString on a string that is not valid UTF-8/UTF-16 (e.g. a lone surrogate escape).
            return $"request body has an invalid string: {e.Message}";
        }
        if (key is null) return "\"key\" is missing from the request body";
        if (value is null) return "\"value\" is missing from the request body";
        return null;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };
}
