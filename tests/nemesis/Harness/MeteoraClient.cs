using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Nemesis;

/// <summary>
/// HTTP calls to the nodes, each recorded as an <see cref="OpRecord"/>: a timeout or a refused
/// connection is an indeterminate failure (the write may or may not have happened), exactly what the
/// checker assumes of every unacknowledged write. A status the API never gives for these requests
/// (a 500, a 400 for a valid request) is recorded as a node error for the report.
/// </summary>
internal sealed class MeteoraClient : IDisposable
{
    /// <summary>Past the node's own request timeout: a paused or cut-off node must not hold a client forever.</summary>
    public const int ClientTimeoutMs = NemesisRun.NodeRequestTimeoutMs + 2_000;

    private readonly HttpClient _http;
    private readonly RunClock _clock;
    private readonly IReadOnlyList<string> _baseUrls;
    private readonly List<string> _nodeErrors = [];

    public MeteoraClient(IReadOnlyList<string> baseUrls, RunClock clock)
    {
        _baseUrls = baseUrls;
        _clock = clock;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(1_000),
            PooledConnectionLifetime = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = 64,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Responses no correct node gives (kept for the report, at most a few hundred).</summary>
    public IReadOnlyList<string> NodeErrors
    {
        get { lock (_nodeErrors) return [.. _nodeErrors]; }
    }

    public async Task ExecuteAsync(OpRecord op)
    {
        string url = _baseUrls[op.Coordinator];
        string key = Uri.EscapeDataString(op.Key);
        string strict = op.PrimaryOnly ? (op.Operation == ClientOperation.Get ? "&primaryRead=true" : "&primaryWrite=true") : "";
        using var request = op.Operation switch
        {
            ClientOperation.Get => new HttpRequestMessage(HttpMethod.Get, $"{url}/meteora/get/{key}?readConsistency={op.Consistency}{strict}"),
            ClientOperation.Set => new HttpRequestMessage(HttpMethod.Put, $"{url}/meteora/set?writeConsistency={op.Consistency}{strict}")
            {
                Content = new StringContent(JsonSerializer.Serialize(new { key = op.Key, value = Encoding.UTF8.GetString(op.Value!) }), Encoding.UTF8, "application/json"),
            },
            _ => new HttpRequestMessage(HttpMethod.Delete, $"{url}/meteora/delete/{key}?writeConsistency={op.Consistency}{strict}"),
        };
        using var timeout = new CancellationTokenSource(ClientTimeoutMs);
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token);
            string body = await response.Content.ReadAsStringAsync(timeout.Token);
            Complete(op, response.StatusCode, body);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            Finish(op, ClientStatus.Unavailable, WriteVersion.Zero, null, e is OperationCanceledException
                ? $"no answer within {ClientTimeoutMs} ms; outcome unknown"
                : $"connection failed: {e.Message}; outcome unknown");
        }
    }

    private void Complete(OpRecord op, HttpStatusCode status, string body)
    {
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            NodeError(op, $"HTTP {(int)status} with a body that is not JSON: {Truncate(body)}");
            Finish(op, ClientStatus.Unavailable, WriteVersion.Zero, null, "not JSON");
            return;
        }
        switch (status)
        {
            case HttpStatusCode.OK:
                string? value = op.Operation == ClientOperation.Get ? json.GetProperty("value").GetString() : null;
                Finish(op, ClientStatus.Ok, ParseVersion(json), value is null ? null : Encoding.UTF8.GetBytes(value), null);
                break;
            case HttpStatusCode.NotFound when op.Operation == ClientOperation.Get:
                Finish(op, ClientStatus.NotFound, ParseVersion(json), null, null);
                break;
            case HttpStatusCode.ServiceUnavailable or HttpStatusCode.InsufficientStorage:
                Finish(op, ClientStatus.Unavailable, WriteVersion.Zero, null, $"HTTP {(int)status}: {Error(json)}");
                break;
            default:
                NodeError(op, $"HTTP {(int)status}: {Truncate(body)}");
                Finish(op, ClientStatus.Unavailable, WriteVersion.Zero, null, $"HTTP {(int)status}: {Error(json)}");
                break;
        }
    }

    /// <summary>"TIMESTAMP.NODE" as the API writes it; absent or null is no version (zero).</summary>
    public static WriteVersion ParseVersion(JsonElement json)
    {
        if (!json.TryGetProperty("version", out JsonElement version) || version.ValueKind != JsonValueKind.String) return WriteVersion.Zero;
        string text = version.GetString()!;
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0
            || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out long micros)
            || !uint.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out uint node))
        {
            throw new FormatException($"version '{text}' is not TIMESTAMP.NODE");
        }
        return new WriteVersion(micros, node);
    }

    private void Finish(OpRecord op, ClientStatus status, WriteVersion version, byte[]? value, string? error)
    {
        op.ResultVersion = version;
        op.ResultValue = value;
        op.Status = status;
        op.Error = error;
        op.CompleteMicros = _clock.NowMicros;
    }

    private void NodeError(OpRecord op, string what)
    {
        lock (_nodeErrors)
        {
            if (_nodeErrors.Count < 200) _nodeErrors.Add($"op#{op.Id} node{op.Coordinator}: {what}");
        }
    }

    private static string Error(JsonElement json) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out JsonElement e) ? e.GetString() ?? "" : "";

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "...";

    /// <summary>A raw GET for the harness's own checks (health, replica reads, repair status).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(string url, int timeoutMs, HttpMethod? method = null)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token);
        string body = await response.Content.ReadAsStringAsync(timeout.Token);
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    public void Dispose() => _http.Dispose();
}
