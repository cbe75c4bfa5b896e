using System.Diagnostics;

namespace Meteora.Nemesis;

/// <summary>A failed setup or fault command: the run cannot go on (exit 3, environment problem).</summary>
internal sealed class EnvironmentException(string message) : Exception(message);

/// <summary>Runs the outside tools (ip, iptables, mount, fallocate) and fails loudly, naming the command.</summary>
internal static class Shell
{
    /// <summary>No tool the harness calls should take this long; one that does is stuck.</summary>
    public const int CommandTimeoutMs = 30_000;

    public static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        string line = $"{program} {string.Join(' ', args)}";
        using Process process = Process.Start(start) ?? throw new EnvironmentException($"cannot start: {line}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new EnvironmentException($"timed out after {CommandTimeoutMs} ms: {line}");
        }
        if (process.ExitCode != 0)
        {
            throw new EnvironmentException($"failed with exit {process.ExitCode}: {line}: {error.Result.Trim()}");
        }
        return output.Result;
    }

    /// <summary>True when the program is on PATH (or an absolute path that exists).</summary>
    public static bool Exists(string program)
    {
        if (Path.IsPathRooted(program)) return File.Exists(program);
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':').Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));
    }
}
