using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Http;

/// <summary>
/// Per-client fairness: each client address may have a bounded number of requests in flight; one
/// more gets 429 at once (no queue), so one busy client cannot take every slot of the node's
/// pending-request table from the others.
/// </summary>
public static class HttpLimits
{
    public static void AddPerClientLimiter(IServiceCollection services, int maxRequestsPerClient) =>
        services.AddSingleton(new PerClientRequestLimit(maxRequestsPerClient));

    public static void UsePerClientLimiter(WebApplication app) => app.UseMiddleware<PerClientRequestLimitMiddleware>();
}

/// <summary>
/// Counts requests in flight per client address with compare-and-swap on a concurrent map (issue 11:
/// ASP.NET Core's partitioned limiter took a lock, a lease object and an async state machine per
/// request). A client's entry exists only while it has a request in flight, so the map holds at most
/// one entry per open connection.
/// </summary>
public sealed class PerClientRequestLimit
{
    private readonly ConcurrentDictionary<IPAddress, int> _inFlight = new();

    public PerClientRequestLimit(int maxRequestsPerClient)
    {
        if (maxRequestsPerClient < 1) throw new ArgumentOutOfRangeException(nameof(maxRequestsPerClient), maxRequestsPerClient, "must be positive");
        MaxRequestsPerClient = maxRequestsPerClient;
    }

    public int MaxRequestsPerClient { get; }

    /// <summary>Clients with a request in flight now.</summary>
    public int Clients => _inFlight.Count;

    /// <summary>Takes one of <paramref name="client"/>'s slots; false when all are taken.</summary>
    public bool TryEnter(IPAddress client)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(client, out int held))
            {
                if (held >= MaxRequestsPerClient) return false;
                if (_inFlight.TryUpdate(client, held + 1, held)) return true;
            }
            else if (_inFlight.TryAdd(client, 1))
            {
                return true;
            }
        }
    }

    /// <summary>Returns a slot taken by <see cref="TryEnter"/>; the client's entry goes with its last slot.</summary>
    public void Exit(IPAddress client)
    {
        while (true)
        {
            if (!_inFlight.TryGetValue(client, out int held) || held < 1)
            {
                throw new InvalidOperationException($"client {client} exits a request it did not enter");
            }
            bool done = held == 1
                ? _inFlight.TryRemove(new KeyValuePair<IPAddress, int>(client, 1))
                : _inFlight.TryUpdate(client, held - 1, held);
            if (done) return;
        }
    }
}

public sealed class PerClientRequestLimitMiddleware(RequestDelegate next, PerClientRequestLimit limit)
{
    public Task InvokeAsync(HttpContext context)
    {
        IPAddress client = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (!limit.TryEnter(client))
        {
            return JsonReplies.Error(context, StatusCodes.Status429TooManyRequests,
                $"too many requests in flight from this client (limit {limit.MaxRequestsPerClient}, --max-requests-per-client); retry later");
        }
        Task running;
        try
        {
            running = next(context);
        }
        catch
        {
            limit.Exit(client);
            throw;
        }
        if (running.IsCompletedSuccessfully)
        {
            limit.Exit(client);
            return Task.CompletedTask;
        }
        return ExitWhenDone(running, client);
    }

    private async Task ExitWhenDone(Task running, IPAddress client)
    {
        try
        {
            await running;
        }
        finally
        {
            limit.Exit(client);
        }
    }
}
