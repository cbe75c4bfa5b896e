using System.CommandLine;
using Meteora.Net.Cluster;
using Meteora.Net.Hosting;
using Microsoft.Extensions.Configuration;

namespace Meteora.Net.Cli;

/// <summary><c>meteora cluster [--nodes K] [--data DIR]</c>: a local development cluster of K node processes.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes K", DefaultValueFactory = _ => 3 };
        var data = new Option<string>("--data") { Description = "Data directory; node i uses DIR/node-i", DefaultValueFactory = _ => "data" };
        var host = new Option<string>("--host") { Description = "Address every node listens on", DefaultValueFactory = _ => "127.0.0.1" };
        var httpPort = new Option<int>("--http-port") { Description = "HTTP port of node 0; node i uses it + i", DefaultValueFactory = _ => 9000 };
        var peerPort = new Option<int>("--peer-port") { Description = "Peer port of node 0; node i uses it + i", DefaultValueFactory = _ => 7000 };
        var partitions = new Option<int>("--partitions") { Description = "Partition count Q (power of two)", DefaultValueFactory = _ => 64 };
        var n = new Option<int?>("--n") { Description = "Replication factor N (default min(3, K))" };
        var r = new Option<int?>("--r") { Description = "Default read consistency R (default majority of N)" };
        var w = new Option<int?>("--w") { Description = "Default write consistency W (default majority of N)" };

        var repair = new RepairSettings();
        var hints = new HintSettings();

        var command = new Command("cluster", "Run a local development cluster (one child process per node)");
        foreach (Option option in new Option[] { nodes, data, host, httpPort, peerPort, partitions, n, r, w })
        {
            command.Options.Add(option);
        }
        foreach (Option option in repair.Options) command.Options.Add(option);
        foreach (Option option in hints.Options) command.Options.Add(option);
        command.SetAction(parse =>
        {
            // Validated here once, so a bad value is one line and exit 2 rather than K failing children.
            var repairFlags = new Dictionary<string, string?>();
            repair.PutFlags(parse, repairFlags);
            hints.PutFlags(parse, repairFlags);
            IConfigurationSection given = new ConfigurationBuilder().AddInMemoryCollection(repairFlags).Build().GetSection(NodeConfig.Section);
            RepairSettings.From(given);
            HintSettings.From(given);
            var options = new ClusterOptions
            {
                Nodes = parse.GetValue(nodes),
                DataDir = parse.GetValue(data)!,
                Host = parse.GetValue(host)!,
                HttpPortBase = parse.GetValue(httpPort),
                PeerPortBase = parse.GetValue(peerPort),
                Partitions = parse.GetValue(partitions),
                ReplicationFactor = parse.GetValue(n),
                ReadConsistency = parse.GetValue(r),
                WriteConsistency = parse.GetValue(w),
                NodeArgs = [.. repair.ForwardedArgs(parse), .. hints.ForwardedArgs(parse)],
            };
            return new ClusterSupervisor(options, Console.Out).Run();
        });
        return command;
    }
}
