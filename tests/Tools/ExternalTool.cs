using System.Diagnostics;
using System.Text;

namespace Meteora.Tests.Tools;

/// <summary>
/// Runs an outside program a test checks our output with (promtool, node + Chromium). A missing tool
/// fails the test with the package to install — never a skip: CI installs them (.ci/run), so a test
/// that silently skipped would hide a broken install step.
/// </summary>
public static class ExternalTool
{
    /// <summary>The tool's full path; throws naming the Debian package when it is not installed.</summary>
    public static string Require(string command, string debianPackage)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = Path.Combine(dir, command);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"{command} is not installed: apt-get install {debianPackage} (bash .ci/run installs it)");
    }

    /// <summary>A child process with all three standard streams redirected, UTF-8 output, no shell.</summary>
    public static ProcessStartInfo StartInfo(string path) => new(path)
    {
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
        StandardOutputEncoding = Encoding.UTF8,
        StandardErrorEncoding = Encoding.UTF8,
    };

    /// <summary>Runs to completion within <paramref name="timeoutMs"/>, feeding <paramref name="stdin"/>, and returns exit code and output.</summary>
    public static ToolResult Run(string path, IEnumerable<string> args, string? stdin = null, int timeoutMs = 60_000)
    {
        ProcessStartInfo start = StartInfo(path);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} {string.Join(' ', args)} did not finish within {timeoutMs} ms");
        }
        return new ToolResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr);
