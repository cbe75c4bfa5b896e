using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Meteora.Bench;

/// <summary>Starts real <c>meteora node</c> processes (the meteora.dll built beside this program) on free loopback ports.</summary>
public sealed class NodeLauncher : IDisposable
{
    private readonly List<Process> _processes = new();

    public List<string> HttpUrls { get; } = new();

    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener listener in listeners) listener.Stop();
        }
    }

    public async Task StartClusterAsync(int nodes, int n, int r, int w, string dataDir)
    {
        int[] ports = FreePorts(2 * nodes);
        string peers = string.Join(',', Enumerable.Range(0, nodes).Select(i => $"{i}=127.0.0.1:{ports[nodes + i]}"));
        for (int i = 0; i < nodes; i++)
        {
            Start(["node", "--id", $"{i}", "--http-port", $"{ports[i]}", "--peer-port", $"{ports[nodes + i]}",
                "--data", Path.Combine(dataDir, $"node-{i}"), "--peers", peers, "--n", $"{n}", "--r", $"{r}", "--w", $"{w}",
                "--log-level", "Warning", "--exit-with-parent"]);
            HttpUrls.Add($"http://127.0.0.1:{ports[i]}");
        }
        await WaitReadyAsync();
    }

    public void StartSelf(string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(typeof(NodeLauncher).Assembly.Location);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        _processes.Add(Process.Start(info)!);
    }

    private void Start(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardInput = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "meteora.dll"));
        foreach (string arg in args) info.ArgumentList.Add(arg);
        _processes.Add(Process.Start(info)!);
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        foreach (string url in HttpUrls)
        {
            while (true)
            {
                try
                {
                    using JsonDocument health = JsonDocument.Parse(await http.GetStringAsync($"{url}/meteora/health"));
                    if (health.RootElement.GetProperty("down").GetArrayLength() == 0) break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"{url} not ready");
                await Task.Delay(100);
            }
        }
    }

    public static async Task WaitForHttpAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await http.GetStringAsync(url);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw;
                await Task.Delay(100);
            }
        }
    }

    public void Dispose()
    {
        foreach (Process process in _processes)
        {
            if (!process.HasExited) _ = kill(process.Id, 15);
        }
        foreach (Process process in _processes)
        {
            if (!process.WaitForExit(10_000)) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        _processes.Clear();
    }

    [DllImport("libc")]
#pragma warning disable SYSLIB1054
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
