using Meteora.Nemesis;

// Exit codes: 0 every check passed, 1 a violation (the command that repeats the run is printed),
// 2 usage error, 3 the environment cannot run it (not root, a tool missing, a setup command failed).
const int ExitOk = 0, ExitViolation = 1, ExitUsage = 2, ExitEnvironment = 3;

NemesisOptions options;
try
{
    options = NemesisOptions.Parse(args);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"nemesis: {e.Message}");
    return ExitUsage;
}

if (options.PlanOnly)
{
    foreach (FaultStep step in FaultPlan.Generate(options.Seed, options.Nodes, options.DurationS * 1000L, options.Faults))
    {
        Console.WriteLine($"{step.StartMs / 1000.0,7:F1}s +{step.DurationMs / 1000.0:F1}s  {step}");
    }
    return ExitOk;
}

string runDir = options.OutDir ?? Path.Combine(Path.GetTempPath(), $"meteora-nemesis-seed{options.Seed}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
try
{
    Preflight.Check(options);
    Directory.CreateDirectory(runDir);
    if (Preflight.NodeTakesClusterSecret(options))
    {
        string secretFile = Path.Combine(runDir, "cluster-secret");
        File.WriteAllText(secretFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(secretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        options = options with { ClusterSecretFile = secretFile };
    }
    var run = new NemesisRun(options, runDir);
    run.Log($"nemesis seed {options.Seed}: {options.Nodes} nodes, {options.DurationS} s, faults {string.Join(',', options.Faults.Select(FaultKinds.Name))}" +
        (options.Plant == Meteora.Engine.Node.PlantedBug.None ? "" : $", planted bug {Meteora.Engine.Node.PlantedBugNames.Format(options.Plant)}"));
    RunReport report = await run.ExecuteAsync();
    foreach (var violation in report.Violations) Console.WriteLine($"  violation: {violation.Text}");
    if (!report.Ok)
    {
        Console.WriteLine($"FAILED: logs and history kept in {runDir}");
        Console.WriteLine($"repeat with: {options.RepeatCommand()}");
    }
    if (report.Ok && options.OutDir is null) Directory.Delete(runDir, recursive: true);
    Console.WriteLine(report.ToJson());
    return report.Ok ? ExitOk : ExitViolation;
}
catch (EnvironmentException e)
{
    Console.Error.WriteLine($"nemesis: {e.Message}");
    if (Directory.Exists(runDir)) Console.Error.WriteLine($"nemesis: logs in {runDir}");
    return ExitEnvironment;
}
