using Meteora.Engine;
using Meteora.Engine.Node;
using Prometheus;

namespace Meteora.Net.Metrics;

/// <summary>
/// Client requests as the node's gateway sees them: latency from submit to the engine's answer per
/// operation and outcome, and the R or W each request asked for. Every labelled child is created up
/// front, so recording a request allocates nothing and looks nothing up.
/// </summary>
public sealed class ClientMetrics
{
    /// <summary>Latency buckets: 100 µs doubling to about 6.5 s (quorum timeouts are seconds).</summary>
    private static readonly double[] LatencyBucketsSeconds = Histogram.ExponentialBuckets(0.0001, 2, 17);

    private static readonly ClientOperation[] Operations = [ClientOperation.Get, ClientOperation.Set, ClientOperation.Delete];
    private static readonly ClientStatus[] Outcomes = [ClientStatus.Ok, ClientStatus.NotFound, ClientStatus.Unavailable, ClientStatus.InvalidRequest];

    private readonly Histogram.Child[,] _latencyByOperationOutcome;
    private readonly Counter _requested;

    /// <summary>Created on first use: a cluster with N=3 would otherwise export 14 series of zeros per operation.</summary>
    private readonly Counter.Child?[,] _requestedByOperationConsistency;

    public ClientMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Histogram latency = factory.CreateHistogram("meteora_client_request_duration_seconds",
            "Client request latency from submit to the coordinator's answer, by operation and outcome (ok, not_found, unavailable, invalid).",
            ["operation", "outcome"], new HistogramConfiguration { Buckets = LatencyBucketsSeconds });
        Counter requested = factory.CreateCounter("meteora_client_requested_consistency_total",
            "Client requests by operation and the consistency they asked for: R for get, W for set and delete; 'default' when none was given.",
            ["operation", "consistency"]);
        _requested = requested;
        _latencyByOperationOutcome = new Histogram.Child[Operations.Length + 1, Outcomes.Length + 1];
        _requestedByOperationConsistency = new Counter.Child[Operations.Length + 1, Limits.MaxReplicationFactor + 1];
        foreach (ClientOperation operation in Operations)
        {
            string op = OperationLabel(operation);
            foreach (ClientStatus outcome in Outcomes) _latencyByOperationOutcome[(int)operation, (int)outcome] = latency.WithLabels(op, OutcomeLabel(outcome));
        }
    }

    /// <summary>Records one answered request; <paramref name="consistency"/> is what the client asked for (null: the default).</summary>
    public void Observe(ClientOperation operation, int? consistency, ClientStatus outcome, TimeSpan elapsed)
    {
        _latencyByOperationOutcome[(int)operation, (int)outcome].Observe(elapsed.TotalSeconds);
        // Out-of-range values were refused as invalid; they are counted with the default rather than growing labels.
        int column = consistency is int c && c >= 1 && c <= Limits.MaxReplicationFactor ? c : 0;
        (_requestedByOperationConsistency[(int)operation, column] ??= _requested.WithLabels(OperationLabel(operation),
            column == 0 ? "default" : column.ToString(System.Globalization.CultureInfo.InvariantCulture))).Inc();
    }

    public static string OperationLabel(ClientOperation operation) => operation switch
    {
        ClientOperation.Get => "get",
        ClientOperation.Set => "set",
        ClientOperation.Delete => "delete",
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation"),
    };

    public static string OutcomeLabel(ClientStatus status) => status switch
    {
        ClientStatus.Ok => "ok",
        ClientStatus.NotFound => "not_found",
        ClientStatus.Unavailable => "unavailable",
        ClientStatus.InvalidRequest => "invalid",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown status"),
    };
}
