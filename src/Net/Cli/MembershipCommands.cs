using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Meteora.Net.Cli;

/// <summary>
/// <c>meteora leave --node URL</c> (that node leaves the ring) and <c>meteora remove ID --node URL [--force]</c>
/// (the ring drops node ID; its partitions are re-replicated from the survivors). Both print what the node
/// answered: the accepted change and ring version, or the refusal in one line (exit 1).
/// </summary>
public static class MembershipCommands
{
    public static IEnumerable<Command> Create() => [Leave(), Remove(), StatusCommand.Create()];

    private static Command Leave()
    {
        var node = NodeOption();
        var token = AdminTokenOption();
        var command = new Command("leave", "Make a node leave the ring: it hands its partitions to their new replicas, then exits 0");
        command.Options.Add(node);
        command.Options.Add(token);
        command.SetAction(parse => Run(parse.GetValue(node)!, parse.GetValue(token), "/meteora/admin/leave"));
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<int>("ID") { Description = "The node to remove from the ring" };
        var node = NodeOption();
        var token = AdminTokenOption();
        var force = new Option<bool>("--force") { Description = "Remove the node even though it is up (it stops serving; its data is not handed off)" };
        var command = new Command("remove", "Remove a (dead) node from the ring; the survivors re-replicate its partitions");
        command.Arguments.Add(id);
        command.Options.Add(node);
        command.Options.Add(token);
        command.Options.Add(force);
        command.SetAction(parse =>
        {
            int nodeId = parse.GetValue(id);
            if (nodeId < 0) throw new CliUsageException($"ID must be a non-negative integer, got {nodeId}");
            string path = $"/meteora/admin/remove/{nodeId.ToString(CultureInfo.InvariantCulture)}" + (parse.GetValue(force) ? "?force=true" : "");
            return Run(parse.GetValue(node)!, parse.GetValue(token), path);
        });
        return command;
    }

    internal static Option<string> NodeOption() => new("--node")
    {
        Description = "The node's HTTP address, e.g. http://127.0.0.1:9000",
        Required = true,
    };

    private static Option<string?> AdminTokenOption() => new("--admin-token-file") { Description = "File holding the admin bearer token, if the node requires one" };

    private static int Run(string node, string? tokenFile, string path)
    {
        using var client = new NodeHttpClient(node, tokenFile, "--admin-token-file");
        try
        {
            (int status, JsonElement body) = client.SendAsync(HttpMethod.Post, path).GetAwaiter().GetResult();
            if (status != 202) throw new NodeCallException(NodeHttpClient.ErrorOf(status, body));
            Console.Out.WriteLine($"accepted: {body.GetProperty("change").GetString()} at ring version {body.GetProperty("ringVersion").GetInt64()}; follow it with `meteora status --node {node}`");
            return MeteoraCli.ExitOk;
        }
        catch (NodeCallException e)
        {
            Console.Error.WriteLine($"meteora: {e.Message}");
            return MeteoraCli.ExitFailure;
        }
    }
}
