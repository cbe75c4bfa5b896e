using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Meteora.Net.Security;

namespace Meteora.Net.Cli;

/// <summary>
/// The HTTP side of the admin commands (<c>leave</c>, <c>remove</c>, <c>status</c>): one request to the
/// node named by <c>--node http://HOST:PORT</c>, with the bearer token read from a file when given, and
/// its JSON answer. Problems become <see cref="CliUsageException"/> (bad input, exit 2) or
/// <see cref="NodeCallException"/> (the node refused or could not be reached: one line, exit 1).
/// </summary>
public sealed class NodeHttpClient : IDisposable
{
    /// <summary>How long a command waits for the node; the node itself waits at most 10 s for the claimant.</summary>
    public const int RequestTimeoutMs = 30_000;

    private readonly HttpClient _http;

    public NodeHttpClient(string node, string? tokenFile, string tokenOption)
    {
        if (!Uri.TryCreate(node, UriKind.Absolute, out Uri? baseUri) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--node must be an http:// or https:// URL such as http://127.0.0.1:9000, got '{node}'");
        }
        _http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromMilliseconds(RequestTimeoutMs) };
        if (tokenFile is not null)
        {
            string token = Encoding.UTF8.GetString(SecretFile.Read(tokenFile, $"token ({tokenOption})"));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Sends the request; returns the status code and the JSON body (an object).</summary>
    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new NodeCallException($"cannot reach {_http.BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new NodeCallException($"{_http.BaseAddress} did not answer within {RequestTimeoutMs} ms");
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            try
            {
                using JsonDocument document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
                return ((int)response.StatusCode, document.RootElement.Clone());
            }
            catch (JsonException)
            {
                throw new NodeCallException($"{_http.BaseAddress} answered {(int)response.StatusCode} without a JSON object (is it a Meteora node?)");
            }
        }
    }

    /// <summary>The error text of a refusal (the "error" field), or the status code.</summary>
    public static string ErrorOf(int status, JsonElement body) =>
        body.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String ? $"{error.GetString()} (HTTP {status})" : $"HTTP {status}";

    public void Dispose() => _http.Dispose();
}

/// <summary>The node refused an admin command or could not be reached: one line on stderr, exit 1.</summary>
public sealed class NodeCallException(string message) : Exception(message);
