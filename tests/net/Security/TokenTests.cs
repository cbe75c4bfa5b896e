using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Security;

public sealed class TokenTests
{
    private const string ClientToken = "client-token-0123456789abcdef";
    private const string AdminToken = "admin-token-fedcba9876543210";

    [Fact]
    public async Task ClientAndAdminCallsNeedTheirTokensAndHealthStaysOpen()
    {
        using var files = new TempDir("meteora-tokens");
        string clientFile = Path.Combine(files.Path, "api.token");
        string adminFile = Path.Combine(files.Path, "admin.token");
        await File.WriteAllTextAsync(clientFile, ClientToken + "\n");
        await File.WriteAllTextAsync(adminFile, AdminToken + "\n");
        await using TestCluster cluster = await TestCluster.StartAsync(1, replicationFactor: 1,
            extraArgs: ["--api-token-file", clientFile, "--admin-token-file", adminFile]);
        HttpClient http = cluster[0].Http;

        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "/meteora/health", null)).Status);
        await ExpectUnauthorized(http, HttpMethod.Get, "/meteora/get/k", null);
        await ExpectUnauthorized(http, HttpMethod.Get, "/meteora/get/k", "wrong-token-wrong-token");
        Assert.Equal(HttpStatusCode.NotFound, (await Send(http, HttpMethod.Get, "/meteora/get/k", ClientToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Put, "/meteora/set", ClientToken, new { key = "k", value = "v" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "/meteora/get/k", AdminToken)).Status);

        // Admin endpoints refuse the client token (and no token), and accept the admin token.
        await ExpectUnauthorized(http, HttpMethod.Post, "/meteora/repair", ClientToken);
        await ExpectUnauthorized(http, HttpMethod.Post, "/meteora/repair", null);
        var (status, body) = await Send(http, HttpMethod.Post, "/meteora/repair", AdminToken);
        Assert.True(status is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{status} {body}");
    }

    private static async Task ExpectUnauthorized(HttpClient http, HttpMethod method, string path, string? token)
    {
        var (status, body) = await Send(http, method, path, token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        string error = body.GetProperty("error").GetString()!;
        Assert.Contains("Bearer", error);
        Assert.DoesNotContain("admin", error, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpClient http, HttpMethod method, string path, string? token, object? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = JsonContent.Create(json);
        using HttpResponseMessage response = await http.SendAsync(request);
        return (response.StatusCode, await Api.ReadJsonAsync(response));
    }
}
