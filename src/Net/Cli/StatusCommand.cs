using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Meteora.Net.Cli;

/// <summary>
/// <c>meteora status --node URL</c>: the cluster as that node sees it, in the shape <c>nodetool status</c>
/// users expect — one row per member: state (U/D, N/J/L), address, keys and bytes held, partitions owned,
/// replicated and held, and the ring version it reports; a version that differs from the node's is
/// marked with <c>*</c> and explained under the table.
/// </summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var node = MembershipCommands.NodeOption();
        var token = new Option<string?>("--api-token-file") { Description = "File holding the API (or admin) bearer token, if the node requires one" };
        var command = new Command("status", "Show every ring member's state, data held and ring version, as one node sees them");
        command.Options.Add(node);
        command.Options.Add(token);
        command.SetAction(parse =>
        {
            using var client = new NodeHttpClient(parse.GetValue(node)!, parse.GetValue(token), "--api-token-file");
            try
            {
                (int status, JsonElement body) = client.SendAsync(HttpMethod.Get, "/meteora/status").GetAwaiter().GetResult();
                if (status != 200) throw new NodeCallException(NodeHttpClient.ErrorOf(status, body));
                Console.Out.Write(Render(body));
                return MeteoraCli.ExitOk;
            }
            catch (NodeCallException e)
            {
                Console.Error.WriteLine($"meteora: {e.Message}");
                return MeteoraCli.ExitFailure;
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
            {
                Console.Error.WriteLine($"meteora: the node's status answer is not in the expected form ({e.Message})");
                return MeteoraCli.ExitFailure;
            }
        });
        return command;
    }

    /// <summary>The table, from a <c>/meteora/status</c> body.</summary>
    public static string Render(JsonElement status)
    {
        var text = new StringBuilder();
        long version = status.GetProperty("ringVersion").GetInt64();
        string change = status.GetProperty("change") is { ValueKind: JsonValueKind.String } c
            ? $"{c.GetString()} in progress, {status.GetProperty("pendingTransfers").GetInt32()} transfers pending"
            : "no change in progress";
        text.AppendLine(CultureInfo.InvariantCulture, $"Node {status.GetProperty("node").GetInt32()}: ring version {version}, claimant {status.GetProperty("claimant").GetInt32()}, {change}");
        text.AppendLine("Status=Up/Down, State=Normal/Joining/Leaving");
        var rows = new List<string[]> { new[] { "--", "ID", "Address", "Keys", "Load", "Owned", "Replicated", "Held", "Hints", "Ring" } };
        var differing = new List<string>();
        foreach (JsonElement m in status.GetProperty("members").EnumerateArray())
        {
            int id = m.GetProperty("id").GetInt32();
            bool differs = m.GetProperty("ringVersionDiffers").GetBoolean();
            string ring = m.GetProperty("ringVersion") is { ValueKind: JsonValueKind.Number } v ? v.GetInt64().ToString(CultureInfo.InvariantCulture) : "?";
            if (differs) differing.Add($"node {id} reports ring version {ring}");
            rows.Add([
                m.GetProperty("state").GetString()!,
                id.ToString(CultureInfo.InvariantCulture) + (m.GetProperty("self").GetBoolean() ? " (this)" : ""),
                m.GetProperty("address").GetString()!,
                Number(m.GetProperty("keys")),
                Bytes(m.GetProperty("bytes")),
                m.GetProperty("partitionsOwned").GetInt32().ToString(CultureInfo.InvariantCulture),
                m.GetProperty("partitionsReplicated").GetInt32().ToString(CultureInfo.InvariantCulture),
                Number(m.GetProperty("partitionsHeld")),
                Number(m.GetProperty("hintsPending")),
                differs ? ring + " *" : ring,
            ]);
        }
        int[] widths = new int[rows[0].Length];
        foreach (string[] row in rows)
        {
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (string[] row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
        foreach (string line in differing) text.AppendLine(CultureInfo.InvariantCulture, $"* {line}, this node holds {version}: the ring has not converged");
        return text.ToString();
    }

    private static string Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetInt64().ToString(CultureInfo.InvariantCulture) : "?";

    private static string Bytes(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number) return "?";
        double bytes = value.GetInt64();
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes:0} B" : string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {units[unit]}");
    }
}
