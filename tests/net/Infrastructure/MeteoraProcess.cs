using System.Diagnostics;

namespace Meteora.Tests.Net.Infrastructure;

/// <summary>Runs the built <c>meteora</c> executable (copied next to the tests) as a child process.</summary>
public static class MeteoraProcess
{
    public static string DllPath
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "meteora.dll");
            if (!File.Exists(path)) throw new FileNotFoundException("meteora.dll is not next to the tests; build src/Net", path);
            return path;
        }
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        ProcessStartInfo info = Tools.ExternalTool.StartInfo("dotnet");
        info.ArgumentList.Add(DllPath);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        // Child processes must not inherit test-host settings that change logging or hosting.
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        return info;
    }

    /// <summary>Runs to completion (bounded by <paramref name="timeoutMs"/>) and returns its output.</summary>
    public static async Task<ProcessResult> RunAsync(IEnumerable<string> args, string? stdin = null, int timeoutMs = 30_000)
    {
        using var process = Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("could not start meteora");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"meteora {string.Join(' ', args)} did not exit within {timeoutMs} ms");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
