using System.CommandLine;

namespace Meteora.Net.Cli;

/// <summary>The long-running commands: node and cluster.</summary>
public static class ServerCommands
{
    public static IEnumerable<Command> Create() => [NodeCommand.Create(), ClusterCommand.Create()];
}
