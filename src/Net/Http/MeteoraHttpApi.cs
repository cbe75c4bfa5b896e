using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Meteora.Engine.Node;
using Meteora.Engine.Repair;
using Meteora.Engine.Ring;
using Meteora.Net.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Http;

/// <summary>
/// The client API (compatible with the original Meteora): get, set, delete and repair (ring, health and
/// metrics are in <see cref="StatusApi"/>). Handlers
/// post to the node's event loop through <see cref="Runtime.ClientGateway"/> and map the engine's
/// result to a status code: 200, 404 (missing key or tombstone), 400 (bad input, naming it),
/// 413 (body over the limit), 503 (quorum not reached, with acks/required). Errors are JSON, never a stack trace.
/// </summary>
public static class MeteoraHttpApi
{
    public const string GetPrefix = "/meteora/get/";
    public const string DeletePrefix = "/meteora/delete/";

    /// <summary>Extra time past the engine's own request timeout before the HTTP layer gives up (a stuck loop, not a slow quorum).</summary>
    public const int ResponseGraceMs = 5_000;

    private static readonly (string Path, string Method)[] KnownRoutes =
    [
        ("/meteora/get/", "GET"),
        ("/meteora/set", "PUT"),
        ("/meteora/delete/", "DELETE"),
        ("/meteora/ring", "GET"),
        ("/meteora/health", "GET"),
        ("/meteora/metrics", "GET"),
        ("/meteora/repair", "POST"),
        ("/meteora/repair/", "GET"),
        (Metrics.MetricsEndpoint.Path, "GET"),
        (AdminReplicaApi.Prefix, "GET"),
        (ClusterStatusApi.Path, "GET"),
        (MembershipAdminApi.LeavePath, "POST"),
        (MembershipAdminApi.RemovePrefix, "POST"),
    ];

    /// <summary>Repair ids are short ("r" + 16 hex digits); longer ones cannot exist and are not echoed in full.</summary>
    public const int MaxRepairIdLength = 64;

    /// <summary>How long a repair or metrics call waits for the event loop before answering 503.</summary>
    public const int LoopCallTimeoutMs = 5_000;

    /// <summary>How long metrics wait for the loop's repair figures before answering without them.</summary>
    public const int MetricsLoopWaitMs = 1_000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/meteora/get/{*key}", (RequestDelegate)GetAsync);
        app.MapPut("/meteora/set", (RequestDelegate)SetAsync);
        app.MapDelete("/meteora/delete/{*key}", (RequestDelegate)DeleteAsync);
        app.MapGet("/meteora/ring", (RequestDelegate)StatusApi.RingAsync);
        app.MapGet("/meteora/health", (RequestDelegate)StatusApi.HealthAsync);
        app.MapGet("/meteora/metrics", (RequestDelegate)StatusApi.MetricsAsync);
        app.MapPost("/meteora/repair", (RequestDelegate)StartRepairAsync);
        app.MapGet("/meteora/repair/{id}", (RequestDelegate)RepairStatusAsync);
        app.MapGet(ClusterStatusApi.Path, (RequestDelegate)ClusterStatusApi.StatusAsync);
        AdminReplicaApi.Map(app);
        MembershipAdminApi.Map(app);
        app.MapFallback((RequestDelegate)FallbackAsync);
    }

    internal static NodeRuntime Runtime(HttpContext context) => context.RequestServices.GetRequiredService<NodeRuntime>();

    private static async Task GetAsync(HttpContext context)
    {
        string key = KeyFromPath(context, GetPrefix);
        if (!TryConsistency(context, "readConsistency", out int? consistency, out string? error)
            || !TryPrimaryOnly(context, "primaryRead", out bool primaryOnly, out error))
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, error!);
            return;
        }
        ClientResult? result = await SubmitAsync(context, ClientOperation.Get, key, null, consistency, primaryOnly);
        if (result is null) return;
        switch (result.Status)
        {
            case ClientStatus.Ok:
                await JsonReplies.Write(context, StatusCodes.Status200OK,
                    new GetResponse(key, Encoding.UTF8.GetString(result.Value!), result.Version.TimestampMicros, result.Required, result.Version.ToString()),
                    ApiJsonContext.Api.GetResponse);
                break;
            case ClientStatus.NotFound:
                await JsonReplies.Write(context, StatusCodes.Status404NotFound,
                    new NotFoundResponse($"key '{key}' not found", result.Version.IsZero ? null : result.Version.ToString()),
                    ApiJsonContext.Api.NotFoundResponse);
                break;
            default:
                await WriteFailure(context, result);
                break;
        }
    }

    private static async Task SetAsync(HttpContext context)
    {
        if (!TryConsistency(context, "writeConsistency", out int? consistency, out string? error)
            || !TryPrimaryOnly(context, "primaryWrite", out bool primaryOnly, out error))
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, error!);
            return;
        }
        long? declaredBytes = context.Request.ContentLength;
        if (declaredBytes > NodeConfig.MaxRequestBodyBytes)
        {
            await BodyTooLarge(context);
            return;
        }
        PipeReader body = context.Request.BodyReader;
        ReadResult read;
        try
        {
            while (true)
            {
                read = await body.ReadAsync(context.RequestAborted);
                if (read.IsCompleted) break;
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await BodyTooLarge(context);
            return;
        }
        string? parseError = SetBodyParser.TryParse(read.Buffer, out string? key, out byte[]? value);
        body.AdvanceTo(read.Buffer.End);
        parseError ??= RequestValidation.CheckKey(key) ?? RequestValidation.CheckValue(value);
        if (parseError is not null)
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, parseError);
            return;
        }
        if (await RefuseWriteAsync(context)) return;
        ClientResult? result = await SubmitAsync(context, ClientOperation.Set, key!, value, consistency, primaryOnly);
        if (result is null) return;
        if (result.Status == ClientStatus.Ok)
        {
            await JsonReplies.Write(context, StatusCodes.Status200OK,
                new SetResponse(key!, Encoding.UTF8.GetString(value!), result.Version.TimestampMicros, result.Required, result.Version.ToString()),
                ApiJsonContext.Api.SetResponse);
            return;
        }
        await WriteFailure(context, result);
    }

    private static async Task DeleteAsync(HttpContext context)
    {
        string key = KeyFromPath(context, DeletePrefix);
        if (!TryConsistency(context, "writeConsistency", out int? consistency, out string? error)
            || !TryPrimaryOnly(context, "primaryWrite", out bool primaryOnly, out error))
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, error!);
            return;
        }
        if (await RefuseWriteAsync(context)) return;
        ClientResult? result = await SubmitAsync(context, ClientOperation.Delete, key, null, consistency, primaryOnly);
        if (result is null) return;
        if (result.Status == ClientStatus.Ok)
        {
            await JsonReplies.Write(context, StatusCodes.Status200OK,
                new DeleteResponse(key, result.Version.TimestampMicros, result.Required, true, result.Version.ToString()),
                ApiJsonContext.Api.DeleteResponse);
            return;
        }
        await WriteFailure(context, result);
    }

    /// <summary>
    /// A node whose disk is full takes no write (507 naming the data directory): even as coordinator
    /// it could not keep its own replica, and the client learns why at once instead of from a quorum
    /// timeout. Reads go on. Returns true when it answered.
    /// </summary>
    private static async Task<bool> RefuseWriteAsync(HttpContext context)
    {
        if (Runtime(context).Storage.WriteRefusal is not { } reason) return false;
        await JsonReplies.Error(context, StatusCodes.Status507InsufficientStorage, reason);
        return true;
    }

    /// <summary>Runs the request on the loop; null if a reply was already written (node stopping or stuck).</summary>
    private static async Task<ClientResult?> SubmitAsync(HttpContext context, ClientOperation operation, string key, byte[]? value, int? consistency, bool primaryOnly)
    {
        NodeRuntime runtime = Runtime(context);
        try
        {
            // The gateway fails a request the engine has not answered within its response limit.
            return await runtime.Gateway.SubmitAsync(operation, key, value, consistency, context.RequestAborted, primaryOnly);
        }
        catch (TimeoutException)
        {
            await JsonReplies.Write(context, StatusCodes.Status503ServiceUnavailable,
                new UnavailableResponse($"node did not answer within {runtime.Gateway.ResponseLimitMs} ms", 0, consistency ?? 0),
                ApiJsonContext.Api.UnavailableResponse);
        }
        catch (ObjectDisposedException)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, "node is shutting down");
        }
        return null;
    }

    private static Task WriteFailure(HttpContext context, ClientResult result) => result.Status switch
    {
        ClientStatus.InvalidRequest => JsonReplies.Error(context, StatusCodes.Status400BadRequest, result.Error ?? "invalid request"),
        ClientStatus.Unavailable => JsonReplies.Write(context, StatusCodes.Status503ServiceUnavailable,
            new UnavailableResponse(result.Error ?? "quorum not reached", result.Acks, result.Required),
            ApiJsonContext.Api.UnavailableResponse),
        _ => JsonReplies.Error(context, StatusCodes.Status500InternalServerError, $"unexpected result {result.Status}"),
    };

    private static Task BodyTooLarge(HttpContext context)
    {
        // The rest of an oversized body is not worth reading: close the connection after replying.
        context.Response.Headers.Connection = "close";
        return JsonReplies.Error(context, StatusCodes.Status413PayloadTooLarge,
            $"request body exceeds the {NodeConfig.MaxRequestBodyBytes}-byte limit");
    }

    /// <summary>
    /// The key is taken from the raw request target and percent-decoded once, so keys may contain
    /// '/', '%' or any UTF-8 (the routing value keeps %2F encoded).
    /// </summary>
    internal static string KeyFromPath(HttpContext context, string prefix)
    {
        string? raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is not null && raw.StartsWith(prefix, StringComparison.Ordinal))
        {
            int query = raw.IndexOf('?', prefix.Length);
            string encoded = query < 0 ? raw[prefix.Length..] : raw[prefix.Length..query];
            return Uri.UnescapeDataString(encoded);
        }
        return context.Request.RouteValues["key"] as string ?? "";
    }

    /// <summary>
    /// <c>primaryRead</c> / <c>primaryWrite</c> (Riak's PR/PW): true counts only the key's N primary replicas
    /// toward R or W; false or absent is a sloppy quorum, where fallback nodes stand in for down primaries.
    /// </summary>
    private static bool TryPrimaryOnly(HttpContext context, string name, out bool primaryOnly, out string? error)
    {
        primaryOnly = false;
        error = null;
        if (!context.Request.Query.TryGetValue(name, out var values)) return true;
        if (values.Count != 1)
        {
            error = $"{name} is given {values.Count} times";
            return false;
        }
        if (!bool.TryParse(values[0], out primaryOnly))
        {
            error = $"{name} must be true or false, got '{values[0]}'";
            return false;
        }
        return true;
    }

    private static bool TryConsistency(HttpContext context, string name, out int? consistency, out string? error)
    {
        consistency = null;
        error = null;
        if (!context.Request.Query.TryGetValue(name, out var values)) return true;
        if (values.Count != 1)
        {
            error = $"{name} is given {values.Count} times";
            return false;
        }
        if (!int.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed))
        {
            error = $"{name} must be an integer, got '{values[0]}'";
            return false;
        }
        consistency = parsed;
        return true;
    }

    /// <summary>
    /// <c>POST /meteora/repair</c>: 202 with the new job's id, or 409 naming the job already running, or
    /// 503 while this node's Merkle trees are still being rebuilt from storage after a start (a job
    /// started then would fail its sessions at once).
    /// </summary>
    private static async Task StartRepairAsync(HttpContext context)
    {
        (bool answered, RepairStart start) = await CallLoopAsync(context, TryStartRepair);
        if (!answered) return;
        if (start.RepairId is null)
        {
            context.Response.Headers.RetryAfter = "1";
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable,
                $"Merkle trees are still being rebuilt ({start.TreesReady} of {start.TreesTotal} partitions ready); retry shortly");
            return;
        }
        if (start.Started)
        {
            context.Response.Headers.Location = $"/meteora/repair/{start.RepairId}";
            await JsonReplies.Write(context, StatusCodes.Status202Accepted, new RepairStartedResponse(start.RepairId), ApiJsonContext.Api.RepairStartedResponse);
            return;
        }
        await JsonReplies.Write(context, StatusCodes.Status409Conflict,
            new RepairConflictResponse($"a repair is already running: {start.RepairId}", start.RepairId), ApiJsonContext.Api.RepairConflictResponse);
    }

    /// <summary>On the loop: the running job's id, or "not ready", or a new job.</summary>
    private static RepairStart TryStartRepair(MeteoraNode node)
    {
        if (node.RunningRepair is { } running) return new RepairStart(false, running.RepairId, 0, 0);
        if (node.Placement is not { } placement) return new RepairStart(false, null, 0, 1); // joining: no ring yet
        int total = 0, ready = 0;
        for (int partition = 0; partition < placement.PartitionCount; partition++)
        {
            if (!placement.IsReplica(partition, node.NodeId)) continue;
            total++;
            if (node.MerkleRoot(partition) is not null) ready++;
        }
        if (ready < total) return new RepairStart(false, null, ready, total);
        (bool started, string id) = node.StartRepair();
        return new RepairStart(started, id, ready, total);
    }

    private readonly record struct RepairStart(bool Started, string? RepairId, int TreesReady, int TreesTotal);

    /// <summary><c>GET /meteora/repair/{id}</c>: the job's progress, or 404 for an id this node does not know (it keeps the last 32).</summary>
    private static async Task RepairStatusAsync(HttpContext context)
    {
        string id = context.Request.RouteValues["id"] as string ?? "";
        if (id.Length > MaxRepairIdLength)
        {
            await JsonReplies.Error(context, StatusCodes.Status404NotFound, $"repair '{id[..MaxRepairIdLength]}...' not found");
            return;
        }
        (bool answered, RepairStatus? status) = await CallLoopAsync(context, node => node.RepairStatus(id));
        if (!answered) return;
        if (status is null)
        {
            await JsonReplies.Error(context, StatusCodes.Status404NotFound, $"repair '{id}' not found (this node remembers its last {RepairOptions.MaxRememberedJobs} jobs)");
            return;
        }
        await JsonReplies.Write(context, StatusCodes.Status200OK, RepairStatusResponse.From(status), ApiJsonContext.Api.RepairStatusResponse);
    }

    /// <summary>Runs <paramref name="call"/> on the event loop; on timeout or shutdown writes a 503 and returns (false, default).</summary>
    internal static async Task<(bool Answered, T? Value)> CallLoopAsync<T>(HttpContext context, Func<MeteoraNode, T> call)
    {
        NodeRuntime runtime = Runtime(context);
        try
        {
            T value = await runtime.Loop.CallAsync(call, context.RequestAborted).WaitAsync(TimeSpan.FromMilliseconds(LoopCallTimeoutMs), context.RequestAborted);
            return (true, value);
        }
        catch (TimeoutException)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, $"node did not answer within {LoopCallTimeoutMs} ms");
        }
        catch (ObjectDisposedException)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, "node is shutting down");
        }
        return (false, default);
    }

    /// <summary>Unknown routes get 404 JSON; a known path with the wrong method gets 405 JSON with Allow.</summary>
    private static Task FallbackAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        foreach ((string route, string method) in KnownRoutes)
        {
            bool matches = route.EndsWith('/')
                ? path.StartsWith(route, StringComparison.OrdinalIgnoreCase)
                : path.Equals(route, StringComparison.OrdinalIgnoreCase);
            if (matches)
            {
                context.Response.Headers.Allow = method;
                return JsonReplies.Error(context, StatusCodes.Status405MethodNotAllowed,
                    $"{context.Request.Method} is not allowed on {route}; use {method}");
            }
        }
        return JsonReplies.Error(context, StatusCodes.Status404NotFound, $"no route for {context.Request.Method} {path}");
    }
}
