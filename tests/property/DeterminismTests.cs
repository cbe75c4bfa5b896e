using System.Text.RegularExpressions;

namespace Meteora.Tests.Property;

/// <summary>
/// The engine must be a pure state machine: everything nondeterministic comes through injected
/// interfaces. This scans src/Engine's sources for the constructs that would break that (the
/// BannedApiAnalyzers list in src/Engine/BannedSymbols.txt enforces the same at compile time).
/// </summary>
public sealed partial class DeterminismTests
{
    private static readonly (string Pattern, string Why)[] Banned =
    [
        (@"\basync\b", "async methods"),
        (@"\bawait\b", "await"),
        (@"\bTask\b", "Task"),
        (@"\bValueTask\b", "ValueTask"),
        (@"\bThread\b", "threads"),
        (@"\bThreadPool\b", "the thread pool"),
        (@"\bParallel\b", "Parallel"),
        (@"\block\s*\(", "locks"),
        (@"\bMonitor\b", "Monitor"),
        (@"\bMutex\b", "Mutex"),
        (@"\bSemaphore(Slim)?\b", "semaphores"),
        (@"\bInterlocked\b", "Interlocked"),
        (@"\bvolatile\b", "volatile"),
        (@"DateTime(Offset)?\s*\.\s*(Utc)?Now", "wall clocks"),
        (@"\bStopwatch\b", "Stopwatch"),
        (@"Environment\s*\.\s*TickCount", "Environment.TickCount"),
        (@"\bRandom\b", "System.Random"),
        (@"Guid\s*\.\s*NewGuid", "Guid.NewGuid"),
        (@"\bTimer\b", "timers not from IScheduler"),
        (@"GetHashCode\(\)\s*%", "hash-code-dependent ordering"),
    ];

    private static string EngineDirectory()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Meteora.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        return Path.Combine(dir!, "src", "Engine");
    }

    [GeneratedRegex(@"//.*$|/\*.*?\*/|""(\\.|[^""\\])*""", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CommentsAndStrings();

    [Fact]
    public void Engine_sources_use_no_threads_clocks_or_randomness()
    {
        string[] files = Directory.GetFiles(EngineDirectory(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray();
        Assert.NotEmpty(files);
        var offences = new List<string>();
        foreach (string file in files)
        {
            string code = CommentsAndStrings().Replace(File.ReadAllText(file), "");
            foreach (var (pattern, why) in Banned)
            {
                if (Regex.IsMatch(code, pattern)) offences.Add($"{Path.GetFileName(file)}: {why} ({pattern})");
            }
        }
        Assert.True(offences.Count == 0, "src/Engine must stay deterministic:\n" + string.Join('\n', offences));
    }

    [Fact]
    public void The_scanner_catches_a_banned_construct()
    {
        string sample = CommentsAndStrings().Replace("var x = DateTime.UtcNow; // Random in a comment is fine", "");
        Assert.Matches(Banned.First(b => b.Why == "wall clocks").Pattern, sample);
        Assert.DoesNotMatch(Banned.First(b => b.Why == "System.Random").Pattern, sample);
    }

    [Fact]
    public void Banned_api_list_is_wired_into_the_engine_project()
    {
        string project = File.ReadAllText(Path.Combine(EngineDirectory(), "Meteora.Engine.csproj"));
        Assert.Contains("BannedApiAnalyzers", project);
        string banned = File.ReadAllText(Path.Combine(EngineDirectory(), "BannedSymbols.txt"));
        foreach (string symbol in new[] { "T:System.Random", "M:System.Guid.NewGuid", "P:System.DateTime.UtcNow", "T:System.Threading.Thread", "T:System.Diagnostics.Stopwatch" })
        {
            Assert.Contains(symbol, banned);
        }
    }
}
