using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Meteora.Net.Http;

/// <summary>
/// Per-client fairness with ASP.NET Core's rate limiter: each client address may have a bounded number
/// of requests in flight; one more gets 429 at once (no queue), so one busy client cannot take every
/// slot of the node's pending-request table from the others.
/// </summary>
public static class HttpLimits
{
    public static void AddPerClientLimiter(IServiceCollection services, int maxRequestsPerClient)
    {
        if (maxRequestsPerClient < 1) throw new ArgumentOutOfRangeException(nameof(maxRequestsPerClient), "must be positive");
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, IPAddress>(context =>
                RateLimitPartition.GetConcurrencyLimiter(
                    context.Connection.RemoteIpAddress ?? IPAddress.None,
                    _ => new ConcurrencyLimiterOptions { PermitLimit = maxRequestsPerClient, QueueLimit = 0 }));
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) => new ValueTask(JsonReplies.Error(context.HttpContext, StatusCodes.Status429TooManyRequests,
                $"too many requests in flight from this client (limit {maxRequestsPerClient}, --max-requests-per-client); retry later"));
        });
    }

    public static void UsePerClientLimiter(WebApplication app) => app.UseRateLimiter();
}
