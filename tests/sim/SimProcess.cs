using System.Diagnostics;
using System.Text.Json;

namespace Meteora.Tests.Sim;

/// <summary>Runs the real <c>meteora-sim</c> executable in a separate process and parses its JSON line.</summary>
internal static class SimProcess
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "meteora-sim.dll");

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(DllPath);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"meteora-sim {string.Join(' ', args)} did not finish in 120 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static JsonElement LastJsonLine(string stdout)
    {
        string last = stdout.TrimEnd().Split('\n')[^1];
        return JsonDocument.Parse(last).RootElement;
    }
}
