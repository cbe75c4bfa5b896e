using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>One <c>meteora node</c> child process with its captured output.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly string[] _args;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public NodeProcess(int id, int httpPort, int peerPort, string dataDir, string[] args, HttpMessageHandler? httpsHandler = null)
    {
        Id = id;
        HttpPort = httpPort;
        PeerPort = peerPort;
        DataDir = dataDir;
        _args = args;
        Http = httpsHandler is null
            ? new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) }
            : new HttpClient(httpsHandler) { BaseAddress = new Uri($"https://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Id { get; }
    public int HttpPort { get; }
    public int PeerPort { get; }
    public string DataDir { get; }
    public HttpClient Http { get; }
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public bool IsRunning => _process is { HasExited: false };
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public string Output => string.Join('\n', _output);

    public void Start()
    {
        if (IsRunning) throw new InvalidOperationException($"node {Id} is already running");
        _process?.Dispose();
        _output.Enqueue($"---- start node {Id}");
        Process process = Process.Start(MeteoraProcess.StartInfo(_args)) ?? throw new InvalidOperationException("could not start meteora node");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Waits until the node answers <c>/meteora/health</c> with 200 (it may still be starting).</summary>
    public async Task WaitForHealthAsync(int timeoutMs = 30_000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using HttpResponseMessage response = await Http.GetAsync("/meteora/health");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"node {Id} not healthy after {timeoutMs} ms:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>After the process exited: waits until its captured output has been read to the end.</summary>
    public void DrainOutput()
    {
        if (_process is { HasExited: true } p) p.WaitForExit();
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like kill -9.</summary>
    public void Kill9()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        _process.WaitForExit();
    }

    public bool Terminate(int timeoutMs = 15_000)
    {
        if (_process is null || _process.HasExited) return true;
        Signals.Term(_process.Id);
        return _process.WaitForExit(timeoutMs);
    }

    public void Dispose()
    {
        Kill9();
        _process?.Dispose();
        Http.Dispose();
    }
}

public static partial class Signals
{
    public static void Term(int pid) => _ = kill(pid, 15);

    /// <summary>SIGSTOP: the process freezes (like a long GC pause); its sockets stay open.</summary>
    public static void Stop(int pid) => _ = kill(pid, 19);

    public static void Continue(int pid) => _ = kill(pid, 18);

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
