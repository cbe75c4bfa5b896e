using System.Diagnostics;
using System.Globalization;

namespace Meteora.Nemesis;

/// <summary>
/// One meteora node as its own host: a process in its network namespace, its data directory on its
/// own size-limited tmpfs (so a full disk is one node's), its wall clock behind libfaketime driven by
/// an offset file the harness rewrites (a clock jump is one write; the node re-reads it every second).
/// Logs of every incarnation go to one file in the run folder.
/// </summary>
internal sealed class NodeProcess
{
    public const int HttpPort = 9000;
    public const int PeerPort = 7000;

    /// <summary>Each node's tmpfs: room for a run's data and RocksDB's files, small enough to fill in a moment.</summary>
    public const long DiskSizeBytes = 64L * 1024 * 1024;

    public const string FakeTimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

    private readonly NemesisOptions _options;
    private readonly string _runDir;
    private Process? _process;

    public NodeProcess(int id, NemesisOptions options, string runDir)
    {
        Id = id;
        _options = options;
        _runDir = runDir;
        DataDir = Path.Combine(runDir, $"node{id}", "data");
        LogPath = Path.Combine(runDir, $"node{id}.log");
        ClockFile = Path.Combine(runDir, $"node{id}", "clock-offset");
        BallastPath = Path.Combine(DataDir, "ballast");
    }

    public int Id { get; }
    public string DataDir { get; }
    public string LogPath { get; }
    public string ClockFile { get; }
    public string BallastPath { get; }
    public string BaseUrl => $"http://{NetworkLab.Address(Id)}:{HttpPort}";

    /// <summary>True while the harness wants this node running (false after a nemesis kill, until restart).</summary>
    public bool ShouldRun { get; private set; }

    public bool Paused { get; private set; }
    public int Incarnation { get; private set; }

    public bool HasExited => _process is null || _process.HasExited;

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public void Prepare()
    {
        Directory.CreateDirectory(DataDir);
        Shell.Run("mount", "-t", "tmpfs", "-o", $"size={DiskSizeBytes}", $"nemesis-disk{Id}", DataDir);
        SetClockOffset(0);
    }

    public void Start()
    {
        if (!HasExited) throw new InvalidOperationException($"node{Id} is already running");
        Incarnation++;
        File.AppendAllText(LogPath, $"---- nemesis: node{Id} incarnation {Incarnation} starts at {DateTime.UtcNow:HH:mm:ss.fff} ----\n");
        string peers = string.Join(',', Enumerable.Range(0, _options.Nodes).Where(n => n != Id)
            .Select(n => $"{n}={NetworkLab.Address(n)}:{PeerPort}"));
        var args = new List<string>
        {
            "dotnet", _options.MeteoraDll, "node", "--id", Id.ToString(CultureInfo.InvariantCulture),
            "--host", NetworkLab.Address(Id), "--http-port", $"{HttpPort}", "--peer-port", $"{PeerPort}",
            "--data", DataDir, "--peers", peers, "--n", $"{_options.ReplicationFactor}",
            "--timeout-ms", $"{NemesisRun.NodeRequestTimeoutMs}", "--ae-interval-ms", "15000", "--partitions", $"{NemesisRun.Partitions}",
            // Few leaves per tree: the workload's few keys then share leaves, so anti-entropy compares
            // every level (a bug in leaf comparison shows up, as merkle-skip-leaf does).
            "--merkle-depth", "2",
        };
        if (_options.ClusterSecretFile is { } secret) args.AddRange(["--cluster-secret-file", secret]);
        if (_options.Plant != Meteora.Engine.Node.PlantedBug.None)
        {
            args.AddRange(["--plant", Meteora.Engine.Node.PlantedBugNames.Format(_options.Plant)]);
        }
        string command = "exec ip netns exec " + NetworkLab.Namespace(Id) + " " + string.Join(' ', args.Select(Quote))
            + " >>" + Quote(LogPath) + " 2>&1";
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        // Only the wall clock is faked: the event loop's timers run on the monotonic clock, as in production.
        start.Environment["LD_PRELOAD"] = FakeTimeLibrary;
        start.Environment["FAKETIME_TIMESTAMP_FILE"] = ClockFile;
        start.Environment["FAKETIME_CACHE_DURATION"] = "1";
        start.Environment["DONT_FAKE_MONOTONIC"] = "1";
        start.Environment["DOTNET_gcServer"] = "0";
        _process = Process.Start(start) ?? throw new EnvironmentException($"cannot start node{Id}");
        ShouldRun = true;
        Paused = false;
    }

    public void Kill()
    {
        ShouldRun = false;
        Signal("KILL");
        _process?.WaitForExit(10_000);
        Paused = false;
    }

    public void Pause()
    {
        Signal("STOP");
        Paused = true;
    }

    public void Resume()
    {
        if (!Paused) return;
        Signal("CONT");
        Paused = false;
    }

    /// <summary>Offset of the node's wall clock from true time; the node sees it within a second.</summary>
    public void SetClockOffset(long offsetMs)
    {
        string text = (offsetMs >= 0 ? "+" : "-") + (Math.Abs(offsetMs) / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
        string temp = ClockFile + ".tmp";
        File.WriteAllText(temp, text + "\n");
        File.Move(temp, ClockFile, overwrite: true); // atomic: libfaketime never reads half a line
    }

    /// <summary>Fills the node's tmpfs to the last few KiB with a ballast file (a full disk).</summary>
    public void FillDisk()
    {
        long free = new DriveInfo(DataDir).AvailableFreeSpace;
        const long leaveBytes = 4096;
        if (free <= leaveBytes) return;
        Shell.Run("fallocate", "-l", (free - leaveBytes).ToString(CultureInfo.InvariantCulture), BallastPath);
    }

    public void FreeDisk()
    {
        if (File.Exists(BallastPath)) File.Delete(BallastPath);
    }

    /// <summary>Stops the process for good at the end of the run (SIGCONT first: a stopped process cannot die gracefully).</summary>
    public void Stop()
    {
        if (HasExited) return;
        Resume();
        Signal("TERM");
        if (!_process!.WaitForExit(10_000)) Signal("KILL");
    }

    /// <summary>After <see cref="Stop"/>: releases the tmpfs (its data goes with it).</summary>
    public void Unmount()
    {
        if (Directory.Exists(DataDir)) Shell.Run("umount", "-l", DataDir);
    }

    private void Signal(string signal)
    {
        if (HasExited) return;
        Shell.Run("kill", "-" + signal, _process!.Id.ToString(CultureInfo.InvariantCulture));
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
