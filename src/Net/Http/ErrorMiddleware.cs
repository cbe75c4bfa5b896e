using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Http;

/// <summary>Turns any escaped exception into a JSON error (the log keeps the details; the client never sees a stack trace).</summary>
public sealed class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await JsonReplies.Error(context, e.StatusCode, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            logger.LogError(e, "request {Method} {Path} failed", context.Request.Method, context.Request.Path);
            await JsonReplies.Error(context, StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name})");
        }
    }
}
