using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Http;

public sealed class HttpApiTests(ThreeNodeClusterFixture fixture) : IClassFixture<ThreeNodeClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task SetGetDeleteThroughEveryNode()
    {
        for (int writer = 0; writer < 3; writer++)
        {
            string key = $"every-node-{writer}";
            var (status, body) = await Api.SetAsync(Cluster[writer].Http, key, $"v{writer}", w: 3);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(key, body.GetProperty("key").GetString());
            Assert.Equal($"v{writer}", body.GetProperty("value").GetString());
            Assert.Equal(3, body.GetProperty("writeConsistency").GetInt32());
            long timestamp = body.GetProperty("timestamp").GetInt64();
            Assert.True(timestamp > 0);

            for (int reader = 0; reader < 3; reader++)
            {
                var (getStatus, got) = await Api.GetAsync(Cluster[reader].Http, key, r: 1);
                Assert.True(getStatus == 200, $"node {reader}: {got}");
                Assert.Equal($"v{writer}", got.GetProperty("value").GetString());
                Assert.Equal(timestamp, got.GetProperty("timestamp").GetInt64());
                Assert.Equal(1, got.GetProperty("readConsistency").GetInt32());
            }

            var (deleteStatus, deleted) = await Api.DeleteAsync(Cluster[(writer + 1) % 3].Http, key, w: 3);
            Assert.True(deleteStatus == 200, deleted.ToString());
            Assert.Equal(key, deleted.GetProperty("key").GetString());
            Assert.True(deleted.GetProperty("timestamp").GetInt64() > timestamp);
            for (int reader = 0; reader < 3; reader++)
            {
                var (goneStatus, gone) = await Api.GetAsync(Cluster[reader].Http, key, r: 1);
                Assert.Equal(404, goneStatus);
                Assert.Contains(key, gone.GetProperty("error").GetString());
            }
        }
    }

    [Fact]
    public async Task DefaultConsistencyIsMajority()
    {
        var (status, body) = await Api.SetAsync(Cluster[0].Http, "defaults", "x");
        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("writeConsistency").GetInt32());
        var (getStatus, got) = await Api.GetAsync(Cluster[1].Http, "defaults");
        Assert.Equal(200, getStatus);
        Assert.Equal(2, got.GetProperty("readConsistency").GetInt32());
    }

    [Fact]
    public async Task OriginalQuickStartRequestsWork()
    {
        // Byte for byte what the original README's curl commands send (note the space in the body).
        using var put = new HttpRequestMessage(HttpMethod.Put, "/meteora/set?writeConsistency=1")
        {
            Content = new StringContent("{\"key\":\"1\", \"value\":\"1\"}", Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage setResponse = await Cluster[0].Http.SendAsync(put);
        JsonElement set = await Api.ReadJsonAsync(setResponse);
        Assert.Equal(HttpStatusCode.OK, setResponse.StatusCode);
        Assert.Equal("1", set.GetProperty("key").GetString());
        Assert.Equal("1", set.GetProperty("value").GetString());
        Assert.Equal(1, set.GetProperty("writeConsistency").GetInt32());

        // W=1 acks after one replica; the others get the write a moment later.
        await Eventually(async () =>
        {
            using HttpResponseMessage getResponse = await Cluster[0].Http.GetAsync("/meteora/get/1?readConsistency=1");
            JsonElement get = await Api.ReadJsonAsync(getResponse);
            return getResponse.StatusCode == HttpStatusCode.OK && get.GetProperty("value").GetString() == "1"
                && get.GetProperty("readConsistency").GetInt32() == 1;
        });
    }

    [Fact]
    public async Task KeysWithReservedCharactersRoundTrip()
    {
        foreach (string key in new[] { "a/b", "sp ace", "q?x=1&y", "pct%2F", "ünïcødé-键", "o'neil\"quote" })
        {
            var (status, body) = await Api.SetAsync(Cluster[0].Http, key, key + "-value", w: 3);
            Assert.True(status == 200, $"{key}: {body}");
            var (getStatus, got) = await Api.GetAsync(Cluster[2].Http, key, r: 1);
            Assert.True(getStatus == 200, $"{key}: {got}");
            Assert.Equal(key, got.GetProperty("key").GetString());
            Assert.Equal(key + "-value", got.GetProperty("value").GetString());
        }
    }

    [Theory]
    [InlineData("/meteora/get/k?readConsistency=5", "readConsistency must be in 1..3, got 5")]
    [InlineData("/meteora/get/k?readConsistency=0", "readConsistency must be in 1..3, got 0")]
    [InlineData("/meteora/get/k?readConsistency=-1", "readConsistency must be in 1..3, got -1")]
    [InlineData("/meteora/get/k?readConsistency=abc", "readConsistency must be an integer, got 'abc'")]
    [InlineData("/meteora/get/k?readConsistency=1&readConsistency=2", "readConsistency is given 2 times")]
    [InlineData("/meteora/get/k?primaryRead=yes", "primaryRead must be true or false, got 'yes'")]
    [InlineData("/meteora/get/k?primaryRead=true&primaryRead=false", "primaryRead is given 2 times")]
    [InlineData("/meteora/get/", "key must not be empty")]
    public async Task BadGetIs400NamingTheProblem(string url, string error)
    {
        using HttpResponseMessage response = await Cluster[1].Http.GetAsync(url);
        JsonElement body = await Api.ReadJsonAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, body.GetProperty("error").GetString());
        await AssertStillServing(1);
    }

    [Theory]
    [InlineData("?writeConsistency=4", "{\"key\":\"k\",\"value\":\"v\"}", "writeConsistency must be in 1..3, got 4")]
    [InlineData("?writeConsistency=x", "{\"key\":\"k\",\"value\":\"v\"}", "writeConsistency must be an integer")]
    [InlineData("?primaryWrite=1", "{\"key\":\"k\",\"value\":\"v\"}", "primaryWrite must be true or false, got '1'")]
    [InlineData("", "{\"key\":\"k\",", "request body is not valid JSON")]
    [InlineData("", "not json", "request body is not valid JSON")]
    [InlineData("", "", "request body is empty")]
    [InlineData("", "[1,2]", "request body must be a JSON object")]
    [InlineData("", "{\"value\":\"v\"}", "\"key\" is missing")]
    [InlineData("", "{\"key\":\"k\"}", "\"value\" is missing")]
    [InlineData("", "{\"key\":\"\",\"value\":\"v\"}", "key must not be empty")]
    [InlineData("", "{\"key\":1,\"value\":\"v\"}", "\"key\" must be a JSON string, got a number")]
    [InlineData("", "{\"key\":\"k\",\"value\":{\"a\":1}}", "\"value\" must be a JSON string, got an object")]
    [InlineData("", "{\"key\":\"k\",\"value\":null}", "\"value\" must be a JSON string, got null")]
    [InlineData("", "{\"key\":\"k\",\"value\":\"v\"} trailing", "request body is not valid JSON")]
    public async Task BadSetIs400NamingTheProblem(string query, string body, string error)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Cluster[2].Http.PutAsync("/meteora/set" + query, content);
        JsonElement json = await Api.ReadJsonAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(error, json.GetProperty("error").GetString());
        await AssertStillServing(2);
    }

    [Fact]
    public async Task OversizedKeysAndValuesAre400()
    {
        string longKey = new('k', 1025);
        var (status, body) = await Api.SetAsync(Cluster[0].Http, longKey, "v");
        Assert.Equal(400, status);
        Assert.Equal("key is 1025 bytes; the limit is 1024", body.GetProperty("error").GetString());

        // 512 two-byte characters is exactly at the limit; one more is over.
        Assert.Equal(200, (await Api.SetAsync(Cluster[0].Http, new string('é', 512), "v")).Status);
        var (overStatus, over) = await Api.GetAsync(Cluster[0].Http, new string('é', 513));
        Assert.Equal(400, overStatus);
        Assert.Equal("key is 1026 bytes; the limit is 1024", over.GetProperty("error").GetString());

        var (valueStatus, valueBody) = await Api.SetAsync(Cluster[0].Http, "big", new string('v', 1024 * 1024 + 1));
        Assert.Equal(400, valueStatus);
        Assert.Equal("value is 1048577 bytes; the limit is 1048576", valueBody.GetProperty("error").GetString());

        var (maxStatus, _) = await Api.SetAsync(Cluster[0].Http, "big", new string('v', 1024 * 1024), w: 3);
        Assert.Equal(200, maxStatus);
        var (bigStatus, big) = await Api.GetAsync(Cluster[1].Http, "big", r: 3);
        Assert.Equal(200, bigStatus);
        Assert.Equal(1024 * 1024, big.GetProperty("value").GetString()!.Length);
        await AssertStillServing(0);
    }

    [Fact]
    public async Task OversizedBodyIs413()
    {
        // Content-Length over the limit: answered before the body is sent (as curl does, via Expect: 100-continue).
        string huge = "{\"key\":\"k\",\"value\":\"" + new string('x', 9 * 1024 * 1024) + "\"}";
        using var content = new StringContent(huge, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/meteora/set") { Content = content };
        request.Headers.ExpectContinue = true;
        using HttpResponseMessage response = await Cluster[0].Http.SendAsync(request);
        JsonElement body = await Api.ReadJsonAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("exceeds the 8388608-byte limit", body.GetProperty("error").GetString());
        await AssertStillServing(0);
    }

    [Fact]
    public async Task OversizedChunkedBodyIs413()
    {
        // No Content-Length: the limit trips while reading. Send just past it, then read the answer.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, Cluster[1].HttpPort);
        NetworkStream stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "PUT /meteora/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
        byte[] chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        byte[] chunkHeader = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        byte[] crlf = "\r\n"u8.ToArray();
        for (long sent = 0; sent <= 8L * 1024 * 1024; sent += chunk.Length)
        {
            await stream.WriteAsync(chunkHeader);
            await stream.WriteAsync(chunk);
            await stream.WriteAsync(crlf);
        }
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        string? statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 413", statusLine);
        string rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("{\"error\":", rest);
        await AssertStillServing(1);
    }

    [Theory]
    [InlineData("GET", "/nope", HttpStatusCode.NotFound, "no route for GET /nope")]
    [InlineData("GET", "/meteora", HttpStatusCode.NotFound, "no route for GET /meteora")]
    [InlineData("POST", "/meteora/get/k", HttpStatusCode.MethodNotAllowed, "POST is not allowed on /meteora/get/; use GET")]
    [InlineData("GET", "/meteora/set", HttpStatusCode.MethodNotAllowed, "GET is not allowed on /meteora/set; use PUT")]
    [InlineData("GET", "/meteora/repair", HttpStatusCode.MethodNotAllowed, "GET is not allowed on /meteora/repair; use POST")]
    [InlineData("POST", "/meteora/repair/r1", HttpStatusCode.MethodNotAllowed, "POST is not allowed on /meteora/repair/; use GET")]
    [InlineData("GET", "/meteora/repair/r0000000000000000", HttpStatusCode.NotFound, "repair 'r0000000000000000' not found (this node remembers its last 32 jobs)")]
    public async Task UnknownRoutesAnswerJson(string method, string url, HttpStatusCode expected, string error)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        using HttpResponseMessage response = await Cluster[0].Http.SendAsync(request);
        JsonElement body = await Api.ReadJsonAsync(response);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(error, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task RingAndHealthDescribeTheCluster()
    {
        using HttpResponseMessage ringResponse = await Cluster[0].Http.GetAsync("/meteora/ring");
        JsonElement ring = await Api.ReadJsonAsync(ringResponse);
        Assert.Equal(64, ring.GetProperty("partitions").GetInt32());
        Assert.Equal(3, ring.GetProperty("replicationFactor").GetInt32());
        Assert.Equal(new[] { 0, 1, 2 }, ring.GetProperty("nodes").EnumerateArray().Select(e => e.GetInt32()));
        // The gossiped ring state: version 1 as configured, claimant the lowest id, members with the addresses peers dial.
        Assert.Equal(1, ring.GetProperty("version").GetInt64());
        Assert.Equal(0, ring.GetProperty("claimant").GetInt32());
        JsonElement[] members = [.. ring.GetProperty("members").EnumerateArray()];
        Assert.Equal([0, 1, 2], members.Select(m => m.GetProperty("id").GetInt32()));
        Assert.All(members, m => Assert.Equal("normal", m.GetProperty("status").GetString()));
        Assert.Equal($"127.0.0.1:{Cluster[1].PeerPort}", members[1].GetProperty("address").GetString());
        JsonElement partitions = ring.GetProperty("ring");
        Assert.Equal(64, partitions.GetArrayLength());
        foreach (JsonElement partition in partitions.EnumerateArray())
        {
            int[] list = [.. partition.GetProperty("preferenceList").EnumerateArray().Select(e => e.GetInt32())];
            Assert.Equal(3, list.Distinct().Count());
            Assert.Equal(partition.GetProperty("owner").GetInt32(), list[0]);
        }

        for (int node = 0; node < 3; node++)
        {
            using HttpResponseMessage healthResponse = await Cluster[node].Http.GetAsync("/meteora/health");
            JsonElement health = await Api.ReadJsonAsync(healthResponse);
            Assert.Equal(node, health.GetProperty("node").GetInt32());
            Assert.Equal("ok", health.GetProperty("status").GetString());
            Assert.Equal(0, health.GetProperty("down").GetArrayLength());
            Assert.Equal(2, health.GetProperty("up").GetArrayLength());
        }
    }

    private async Task AssertStillServing(int node)
    {
        string key = $"alive-{Guid.NewGuid():N}";
        var (status, body) = await Api.SetAsync(Cluster[node].Http, key, "yes", w: 3);
        Assert.True(status == 200, body.ToString());
        var (getStatus, _) = await Api.GetAsync(Cluster[node].Http, key, r: 3);
        Assert.Equal(200, getStatus);
    }

    private static async Task Eventually(Func<Task<bool>> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(50);
        }
    }
}
