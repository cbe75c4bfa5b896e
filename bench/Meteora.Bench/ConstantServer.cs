using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Meteora.Bench;

/// <summary>The HTTP baseline: bare Kestrel (same slim builder as a node) answering a constant JSON body.</summary>
public static class ConstantServer
{
    private static readonly byte[] Body = "{\"key\":\"k\",\"value\":\"constant\",\"timestamp\":0,\"readConsistency\":1}"u8.ToArray();

    public static async Task RunAsync(int port)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        await using WebApplication app = builder.Build();
        RequestDelegate constant = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(Body);
        };
        app.MapGet("/constant", constant);
        app.MapPut("/constant", async context =>
        {
            // Read the body like a node does, so the baseline pays the same upload cost.
            using var sink = new MemoryStream();
            await context.Request.Body.CopyToAsync(sink);
            await constant(context);
        });
        await app.RunAsync();
    }
}
