using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Meteora.Net.Http;

/// <summary>Writes JSON bodies with source-generated serializers (no reflection per request).</summary>
public static class JsonReplies
{
    public static Task Write<T>(HttpContext context, int statusCode, T body, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, typeInfo, context.RequestAborted);
    }

    public static Task Error(HttpContext context, int statusCode, string message) =>
        Write(context, statusCode, new ErrorResponse(message), ApiJsonContext.Api.ErrorResponse);
}
