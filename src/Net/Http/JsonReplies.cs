using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Meteora.Net.Http;

/// <summary>
/// Writes JSON bodies with source-generated serializers (no reflection per request). The body is
/// serialized first into a per-thread buffer, so the reply carries a Content-Length and goes out in
/// the one flush Kestrel makes when the handler returns (issue 11: streaming the serializer into the
/// response made every reply chunked and flushed it twice).
/// </summary>
public static class JsonReplies
{
    /// <summary>A thread keeps its buffer while it stays this small; a rare larger body does not pin its buffer.</summary>
    public const int MaxRetainedBufferBytes = 64 * 1024;

    /// <summary>
    /// Escaping is the writer's, not the serializer options': replies are served as application/json
    /// (never embedded in HTML), so the relaxed encoder is safe and keeps keys like <c>o'neil</c> or
    /// non-ASCII text readable. (A writer created without it \u-escaped them: session 8 found
    /// <c>o\u0027neil</c> in replies.)
    /// </summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static Task Write<T>(HttpContext context, int statusCode, T body, JsonTypeInfo<T> typeInfo)
    {
        HttpResponse response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        ArrayBufferWriter<byte> buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        Utf8JsonWriter writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, body, typeInfo);
        writer.Flush();
        response.ContentLength = buffer.WrittenCount;
        // Copies into the response pipe before returning, so the buffer is free for this thread's next reply.
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > MaxRetainedBufferBytes)
        {
            t_buffer = null;
            t_writer = null;
        }
        return Task.CompletedTask;
    }

    public static Task Error(HttpContext context, int statusCode, string message) =>
        Write(context, statusCode, new ErrorResponse(message), ApiJsonContext.Api.ErrorResponse);
}
