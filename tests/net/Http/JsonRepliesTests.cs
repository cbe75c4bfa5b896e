using System.Text;
using Meteora.Net.Http;
using Microsoft.AspNetCore.Http;

namespace Meteora.Tests.Net.Http;

/// <summary>
/// Reply bodies are written with the relaxed encoder: readable keys and values, with only what JSON
/// itself requires escaped. Regression (session 8): the per-thread writer had default options, so
/// <c>o'neil</c> went out as <c>o\u0027neil</c> and non-ASCII text as \u escapes.
/// </summary>
public sealed class JsonRepliesTests
{
    private static async Task<string> Body<T>(T reply, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await JsonReplies.Write(context, StatusCodes.Status200OK, reply, typeInfo);
        await context.Response.BodyWriter.FlushAsync();
        Assert.Equal(body.Length, context.Response.ContentLength);
        Assert.Equal("application/json; charset=utf-8", context.Response.ContentType);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    [Fact]
    public async Task Keys_and_values_stay_readable_and_only_json_syntax_is_escaped()
    {
        string json = await Body(new GetResponse("o'neil-ü<>&\"键", "v+é\n", 5, 2, "5.1"), ApiJsonContext.Api.GetResponse);
        Assert.Equal("{\"key\":\"o'neil-ü<>&\\\"键\",\"value\":\"v+é\\n\",\"timestamp\":5,\"readConsistency\":2,\"version\":\"5.1\"}", json);
    }

    [Fact]
    public async Task A_set_reply_has_camel_case_names_in_declaration_order()
    {
        string json = await Body(new SetResponse("k", "v", 7, 3, "7.0"), ApiJsonContext.Api.SetResponse);
        Assert.Equal("{\"key\":\"k\",\"value\":\"v\",\"timestamp\":7,\"writeConsistency\":3,\"version\":\"7.0\"}", json);
    }

    [Fact]
    public async Task The_same_thread_writes_a_second_reply_from_a_clean_buffer()
    {
        string first = await Body(new ErrorResponse("a long first message, longer than the second"), ApiJsonContext.Api.ErrorResponse);
        string second = await Body(new ErrorResponse("short"), ApiJsonContext.Api.ErrorResponse);
        Assert.Equal("{\"error\":\"a long first message, longer than the second\"}", first);
        Assert.Equal("{\"error\":\"short\"}", second);
    }
}
