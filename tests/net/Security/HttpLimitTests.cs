using System.Net;
using System.Net.Sockets;
using System.Text;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Security;

public sealed class HttpLimitTests
{
    [Fact]
    public async Task ConnectionsBeyondTheLimitGet503AndOneClientBeyondItsShareGets429()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(1, replicationFactor: 1,
            extraArgs: ["--max-http-connections", "3", "--max-requests-per-client", "1"]);
        int port = cluster[0].HttpPort;

        // One request whose body never comes holds this client's only request slot.
        using TcpClient slow = await OpenAsync(port);
        await slow.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
            "PUT /meteora/set HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"));
        await Task.Delay(300);
        using TcpClient second = await OpenAsync(port);
        string busy = await RequestAsync(second, "GET /meteora/get/k HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 429", busy);
        Assert.Contains("--max-requests-per-client", busy);

        // Three connections are open (slow, second, and this one); a fourth is refused with a 503 JSON body.
        using TcpClient third = await OpenAsync(port);
        await Task.Delay(300);
        using TcpClient fourth = await OpenAsync(port);
        string refused = await RequestAsync(fourth, "GET /meteora/health HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 503", refused);
        Assert.Contains("\"error\":\"node busy", refused);
        Assert.Contains("--max-http-connections", refused);
    }

    private static async Task<TcpClient> OpenAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    private static async Task<string> RequestAsync(TcpClient client, string request)
    {
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(10_000);
        var buffer = new byte[4096];
        var text = new StringBuilder();
        // Enough once the head is complete and the (possibly chunked) JSON body has closed its object.
        while (text.ToString() is var sofar && !(sofar.IndexOf("\r\n\r\n", StringComparison.Ordinal) is int head and >= 0 && sofar.IndexOf('}', head) >= 0))
        {
            int read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        return text.ToString();
    }
}
