using System.CommandLine;

namespace Meteora.Net.Cli;

/// <summary>
/// The <c>meteora</c> command line. Exit codes: 0 ok, 1 runtime failure, 2 usage error (one line on stderr).
/// </summary>
public static class MeteoraCli
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static int Run(string[] args)
    {
        var root = new RootCommand("Meteora: a Dynamo-style distributed key-value store");
        root.Subcommands.Add(HashCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        foreach (Command command in ServerCommands.Create()) root.Subcommands.Add(command);
        foreach (Command command in MembershipCommands.Create()) root.Subcommands.Add(command);

        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"meteora: {ParseErrors.Describe(result.Errors[0].Message)}");
            return ExitUsage;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"meteora: {e.Message}");
            return ExitUsage;
        }
    }
}
