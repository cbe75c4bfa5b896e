using Meteora.Net.Hosting;
using Meteora.Net.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// <c>GET /metrics</c>: the node's registry in the Prometheus text format (or OpenMetrics when the
/// scraper asks for it), served by prometheus-net. Open like <c>/meteora/health</c>: it carries no keys or values.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        NodeRuntime runtime = app.Services.GetRequiredService<NodeRuntime>();
        runtime.Metrics.Peers.AttachInbound(app.Services.GetRequiredService<PeerInboundContext>().Stats,
            app.Services.GetRequiredService<Http.HttpConnectionLimit>());
        // GET only, like every other route: another method falls through to the API's 405 JSON answer.
        app.MapMetrics(Path, runtime.Metrics.Registry).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }
}
