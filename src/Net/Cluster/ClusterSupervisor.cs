using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using Meteora.Net.Cli;
using Meteora.Net.Http;

namespace Meteora.Net.Cluster;

/// <summary>
/// <c>meteora cluster</c>: starts K <c>meteora node</c> child processes on consecutive ports, waits until
/// every node sees every peer, prints a table and a sample curl, forwards the children's logs with a
/// prefix, and on Ctrl-C or SIGTERM stops them (SIGTERM, then SIGKILL after a grace period). Children
/// also stop on their own when this process dies (their stdin, a pipe from us, closes).
/// </summary>
public sealed class ClusterSupervisor
{
    public const int StopGraceMs = 10_000;
    private const int HealthPollMs = 100;

    private readonly ClusterOptions _options;
    private readonly TextWriter _out;
    private readonly Lock _outputLock = new();
    private readonly List<Process> _children = new();

    public ClusterSupervisor(ClusterOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _out = output ?? throw new ArgumentNullException(nameof(output));
    }

    public int Run()
    {
        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we stop the children first, then exit normally
            stop.Cancel();
        }

        try
        {
            Directory.CreateDirectory(_options.DataDir);
            EnsureClusterSecret();
            for (int node = 0; node < _options.Nodes; node++) _children.Add(StartNode(node));
            if (!WaitUntilReady(stop.Token))
            {
                if (stop.IsCancellationRequested) return MeteoraCli.ExitOk;
                Say($"cluster: nodes did not become ready within {_options.StartTimeoutMs} ms; stopping");
                return MeteoraCli.ExitFailure;
            }
            PrintTable();
            return WaitForStopOrDeath(stop.Token);
        }
        finally
        {
            StopChildren();
        }
    }

    /// <summary>The children authenticate each other with a secret kept in the data directory (mode 0600), made once.</summary>
    private void EnsureClusterSecret()
    {
        if (File.Exists(_options.SecretFile)) return;
        Security.SecretFile.CreateRandom(_options.SecretFile);
        Say($"cluster: created cluster secret {_options.SecretFile} (mode 0600)");
    }

    private Process StartNode(int node)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        SelfCommand(info);
        string[] args =
        [
            "node",
            "--id", Num(node),
            "--host", _options.Host,
            "--http-port", Num(_options.HttpPort(node)),
            "--peer-port", Num(_options.PeerPort(node)),
            "--data", _options.NodeDataDir(node),
            "--peers", PeerList(),
            "--partitions", Num(_options.Partitions),
            "--n", Num(_options.EffectiveReplicationFactor),
            "--cluster-secret-file", _options.SecretFile,
            "--exit-with-parent",
        ];
        foreach (string arg in args) info.ArgumentList.Add(arg);
        if (_options.ReadConsistency is { } r) { info.ArgumentList.Add("--r"); info.ArgumentList.Add(Num(r)); }
        if (_options.WriteConsistency is { } w) { info.ArgumentList.Add("--w"); info.ArgumentList.Add(Num(w)); }
        foreach (string arg in _options.NodeArgs) info.ArgumentList.Add(arg);

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start node {node}");
        string prefix = $"[node {node}] ";
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Say(prefix + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Say(prefix + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs this same program: the apphost directly, or <c>dotnet meteora.dll</c>.</summary>
    private static void SelfCommand(ProcessStartInfo info)
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.FileName = processPath;
            info.ArgumentList.Add(typeof(ClusterSupervisor).Assembly.Location);
        }
        else
        {
            info.FileName = processPath;
        }
    }

    private string PeerList()
    {
        var peers = new StringBuilder();
        for (int node = 0; node < _options.Nodes; node++)
        {
            if (peers.Length > 0) peers.Append(',');
            peers.Append(CultureInfo.InvariantCulture, $"{node}={_options.Host}:{_options.PeerPort(node)}");
        }
        return peers.ToString();
    }

    /// <summary>Ready = every node answers /meteora/health and sees all of its peers up.</summary>
    private bool WaitUntilReady(CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var ready = new bool[_options.Nodes];
        while (deadline.ElapsedMilliseconds < _options.StartTimeoutMs && !stop.IsCancellationRequested)
        {
            bool all = true;
            for (int node = 0; node < _options.Nodes; node++)
            {
                if (_children[node].HasExited)
                {
                    Say($"cluster: node {node} exited during startup with code {_children[node].ExitCode}");
                    return false;
                }
                if (!ready[node]) ready[node] = IsReady(http, node, stop);
                all &= ready[node];
            }
            if (all) return true;
            stop.WaitHandle.WaitOne(HealthPollMs);
        }
        return false;
    }

    private bool IsReady(HttpClient http, int node, CancellationToken stop)
    {
        try
        {
            HealthResponse? health = http.GetFromJsonAsync($"{HttpUrl(node)}/meteora/health", ApiJsonContext.Default.HealthResponse, stop)
                .GetAwaiter().GetResult();
            return health is not null && health.Down.Length == 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private string HttpUrl(int node) => $"http://{_options.Host}:{_options.HttpPort(node)}";

    private void PrintTable()
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture,
            $"Meteora dev cluster: {_options.Nodes} node(s), N={_options.EffectiveReplicationFactor}, Q={_options.Partitions}, data in {Path.GetFullPath(_options.DataDir)}");
        table.AppendLine("  node  http                         peer                 pid      data");
        for (int node = 0; node < _options.Nodes; node++)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"  {node,-4}  {HttpUrl(node),-27}  {_options.Host + ":" + Num(_options.PeerPort(node)),-19}  {_children[node].Id,-7}  {_options.NodeDataDir(node)}");
        }
        string url = HttpUrl(0);
        table.AppendLine("Try:");
        table.AppendLine($"  curl -X PUT -H 'Content-Type: application/json' -d '{{\"key\":\"1\", \"value\":\"1\"}}' '{url}/meteora/set?writeConsistency=1'");
        table.AppendLine($"  curl -X GET '{url}/meteora/get/1?readConsistency=1'");
        table.AppendLine($"  curl -X DELETE '{url}/meteora/delete/1'");
        table.AppendLine($"  curl '{url}/meteora/health'   curl '{url}/meteora/ring'");
        table.AppendLine($"  curl -X POST '{url}/meteora/repair'   then   curl '{url}/meteora/repair/<repairId>'");
        table.Append("Press Ctrl-C to stop the cluster.");
        Say(table.ToString());
    }

    /// <summary>Waits for a stop signal; a node that dies is reported, and the cluster ends when none is left.</summary>
    private int WaitForStopOrDeath(CancellationToken stop)
    {
        var reported = new bool[_children.Count];
        while (!stop.WaitHandle.WaitOne(200))
        {
            int alive = 0;
            for (int node = 0; node < _children.Count; node++)
            {
                if (!_children[node].HasExited)
                {
                    alive++;
                }
                else if (!reported[node])
                {
                    reported[node] = true;
                    Say($"cluster: node {node} exited with code {_children[node].ExitCode}");
                }
            }
            if (alive == 0)
            {
                Say("cluster: every node has exited");
                return MeteoraCli.ExitFailure;
            }
        }
        Say("cluster: stopping nodes");
        return MeteoraCli.ExitOk;
    }

    private void StopChildren()
    {
        foreach (Process child in _children)
        {
            if (!HasExited(child)) PosixSignals.TrySend(child.Id, PosixSignals.SigTerm);
        }
        var grace = Stopwatch.StartNew();
        foreach (Process child in _children)
        {
            int leftMs = (int)Math.Max(0, StopGraceMs - grace.ElapsedMilliseconds);
            if (!child.WaitForExit(leftMs))
            {
                Say($"cluster: node pid {child.Id} did not stop within {StopGraceMs} ms; killing it");
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }
            else
            {
                child.WaitForExit(); // drains the redirected output
            }
            child.Dispose();
        }
        _children.Clear();
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private void Say(string line)
    {
        lock (_outputLock)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
