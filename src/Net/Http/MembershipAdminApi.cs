using System.Globalization;
using Meteora.Engine.Membership;
using Meteora.Net.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meteora.Net.Http;

/// <summary>
/// Ring changes (admin): <c>POST /meteora/admin/leave</c> (this node hands its partitions off and exits
/// 0) and <c>POST /meteora/admin/remove/{id}[?force=true]</c> (the survivors re-replicate a dead node's
/// partitions; force removes a live one). The node asks the claimant and waits for its answer, at most
/// <see cref="OutcomeWaitMs"/>: 202 when it accepted the change (the transfers then run in the
/// background: watch <c>GET /meteora/ring</c>), 409 naming the change already running, 400 for a change
/// the ring refuses (too few nodes would remain, not a member, a live node without force), 503 when the
/// claimant is down or did not answer.
/// </summary>
public static class MembershipAdminApi
{
    public const string LeavePath = "/meteora/admin/leave";
    public const string RemovePrefix = "/meteora/admin/remove/";

    /// <summary>How long a request waits for the claimant's answer before answering 503.</summary>
    public const int OutcomeWaitMs = 10_000;

    /// <summary>How often the outcome is looked up on the event loop while waiting.</summary>
    public const int OutcomePollMs = 50;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(LeavePath, (RequestDelegate)LeaveAsync);
        app.MapPost(RemovePrefix + "{id}", (RequestDelegate)RemoveAsync);
    }

    private static Task LeaveAsync(HttpContext context)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        return ChangeAsync(context, new RingChange(RingChangeKind.Leave, runtime.Config.NodeId), force: false);
    }

    private static async Task RemoveAsync(HttpContext context)
    {
        string text = context.Request.RouteValues["id"] as string ?? "";
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
        {
            await JsonReplies.Error(context, StatusCodes.Status400BadRequest, $"node id must be a non-negative integer, got '{Shorten(text)}'");
            return;
        }
        bool force = false;
        if (context.Request.Query.TryGetValue("force", out var values))
        {
            if (values.Count != 1 || !bool.TryParse(values[0], out force))
            {
                await JsonReplies.Error(context, StatusCodes.Status400BadRequest, $"force must be true or false, got '{Shorten(values.ToString())}'");
                return;
            }
        }
        await ChangeAsync(context, new RingChange(RingChangeKind.Remove, id), force);
    }

    private static async Task ChangeAsync(HttpContext context, RingChange change, bool force)
    {
        NodeRuntime runtime = MeteoraHttpApi.Runtime(context);
        (bool answered, long? ticket) = await MeteoraHttpApi.CallLoopAsync(context,
            node => node.Ring is null ? (long?)null : node.RequestRingChange(change, null, force));
        if (!answered) return;
        if (ticket is null)
        {
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable, $"node {runtime.Config.NodeId} is joining and has not received the ring yet");
            return;
        }
        RingChangeOutcome? outcome = await WaitForOutcomeAsync(runtime, ticket.Value, context.RequestAborted);
        if (outcome is null)
        {
            string claimant = runtime.Ring is { } ring ? $"claimant node {ring.Claimant}" : "the claimant";
            await JsonReplies.Error(context, StatusCodes.Status503ServiceUnavailable,
                $"{claimant} did not answer the {change} within {OutcomeWaitMs} ms; it may still apply it: see GET /meteora/ring");
            return;
        }
        if (outcome.Ok)
        {
            await JsonReplies.Write(context, StatusCodes.Status202Accepted, new RingChangeAccepted(true, outcome.Version, change.ToString()),
                ApiJsonContext.Api.RingChangeAccepted);
            return;
        }
        string error = outcome.Error ?? $"the {change} was refused";
        if (outcome.Conflict)
        {
            await JsonReplies.Write(context, StatusCodes.Status409Conflict, new RingChangeConflict(error, runtime.Ring?.Change?.ToString()),
                ApiJsonContext.Api.RingChangeConflict);
            return;
        }
        // Nobody decided (the claimant is down or silent, the ring unknown here): it may succeed later.
        await JsonReplies.Error(context, outcome.Retryable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest, error);
    }

    /// <summary>Polls the ticket on the loop; null when no outcome came within <see cref="OutcomeWaitMs"/> (or the node is stopping).</summary>
    private static async Task<RingChangeOutcome?> WaitForOutcomeAsync(NodeRuntime runtime, long ticket, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(OutcomeWaitMs);
        try
        {
            while (true)
            {
                RingChangeOutcome? outcome = await runtime.Loop.CallAsync(node => node.RingChangeOutcome(ticket), deadline.Token).ConfigureAwait(false);
                if (outcome is not null) return outcome;
                await Task.Delay(OutcomePollMs, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
