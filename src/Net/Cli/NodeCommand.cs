using System.CommandLine;
using System.Globalization;
using Meteora.Net.Hosting;
using Meteora.Net.Security;

namespace Meteora.Net.Cli;

/// <summary>
/// <c>meteora node --id ID --http-port P --peer-port Q --data DIR --peers ID=HOST:PORT,...</c> (or
/// <c>--config FILE</c>), or <c>... --join HOST:PORT</c> to join a running cluster: runs one node until
/// SIGINT/SIGTERM, or until it has left the ring (exit 0) or its join was refused (exit 2). Flags override the config file and
/// environment (<c>Meteora__NodeId</c>, ...), which override <c>./appsettings.json</c>.
/// </summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var id = new Option<int?>("--id") { Description = "This node's id (non-negative integer)" };
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1)" };
        var httpPort = new Option<int?>("--http-port") { Description = $"HTTP API port (default {NodeConfig.DefaultHttpPort})" };
        var peerPort = new Option<int?>("--peer-port") { Description = $"Peer TCP port (default {NodeConfig.DefaultPeerPort})" };
        var data = new Option<string?>("--data") { Description = "Data directory (RocksDB lives in DIR/db)" };
        var peers = new Option<string?>("--peers") { Description = "Other nodes: ID=HOST:PORT,... (peer ports)" };
        var join = new Option<string?>("--join") { Description = "Join a running cluster through any member's peer address HOST:PORT (instead of --peers)" };
        var peerAddress = new Option<string?>("--peer-address") { Description = "Address peers dial to reach this node, HOST:PORT (default --host:--peer-port)" };
        var streamRate = new Option<long?>("--stream-bytes-per-second") { Description = "Throttle of partition transfers during ring changes (default 32 MiB/s)" };
        var config = new Option<string?>("--config") { Description = "JSON config file with a \"Meteora\" section" };
        var partitions = new Option<int?>("--partitions") { Description = "Partition count Q, a power of two (default 64); fixed for the data directory" };
        var n = new Option<int?>("--n") { Description = "Replication factor N (default 3)" };
        var r = new Option<int?>("--r") { Description = "Default read consistency R (default majority of N)" };
        var w = new Option<int?>("--w") { Description = "Default write consistency W (default majority of N)" };
        var timeoutMs = new Option<int?>("--timeout-ms") { Description = "Coordinator request timeout in ms (default 1000)" };
        var logLevel = new Option<string?>("--log-level") { Description = "Trace, Debug, Information, Warning, Error" };
        var secretFile = new Option<string?>("--cluster-secret-file") { Description = "File holding the cluster secret all peers share (required for a non-loopback --host)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate for TLS on peer links and HTTP (with --tls-key and --tls-ca)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var tlsCa = new Option<string?>("--tls-ca") { Description = "PEM CA certificate that signs every member's certificate" };
        var apiTokenFile = new Option<string?>("--api-token-file") { Description = "File holding the bearer token client calls must send" };
        var adminTokenFile = new Option<string?>("--admin-token-file") { Description = "File holding the bearer token admin calls (repair, membership) must send" };
        var maxConnections = new Option<int?>("--max-http-connections") { Description = $"Open HTTP connections before new ones get 503 (default {NodeConfig.DefaultMaxHttpConnections})" };
        var maxPerClient = new Option<int?>("--max-requests-per-client") { Description = $"Requests in flight per client address before 429 (default {NodeConfig.DefaultMaxRequestsPerClient})" };
        var heartbeatMs = new Option<int?>("--heartbeat-interval-ms") { Description = "Heartbeat to every peer this often (default 200)" };
        var phiThreshold = new Option<double?>("--phi-threshold") { Description = "Failure detector: a peer whose phi exceeds this is down (default 8)" };
        var diskReserve = new Option<long?>("--disk-reserve-bytes") { Description = "Refuse writes (507) while the data directory has less free space (default 8 MiB)" };
        var plant = new Option<string?>("--plant") { Description = "Plant a deliberate bug (tests of checkers only)", Hidden = true };
        var exitWithParent = new Option<bool>("--exit-with-parent") { Description = "Stop when standard input closes (used by `meteora cluster`)", Hidden = true };

        var repair = new RepairSettings();
        var hints = new HintSettings();

        var command = new Command("node", "Run one Meteora node");
        foreach (Option option in new Option[] { id, host, httpPort, peerPort, data, peers, join, peerAddress, streamRate, config, partitions, n, r, w, timeoutMs, logLevel, secretFile, tlsCert, tlsKey, tlsCa, apiTokenFile, adminTokenFile, maxConnections, maxPerClient, heartbeatMs, phiThreshold, diskReserve, plant, exitWithParent })
        {
            command.Options.Add(option);
        }
        foreach (Option option in repair.Options) command.Options.Add(option);
        foreach (Option option in hints.Options) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var flags = new Dictionary<string, string?>();
            Put(flags, "NodeId", parse.GetValue(id));
            Put(flags, "Host", parse.GetValue(host));
            Put(flags, "HttpPort", parse.GetValue(httpPort));
            Put(flags, "PeerPort", parse.GetValue(peerPort));
            Put(flags, "DataDir", parse.GetValue(data));
            Put(flags, "Peers", parse.GetValue(peers));
            Put(flags, "Join", parse.GetValue(join));
            Put(flags, "PeerAddress", parse.GetValue(peerAddress));
            Put(flags, "StreamBytesPerSecond", parse.GetValue(streamRate));
            Put(flags, "Partitions", parse.GetValue(partitions));
            Put(flags, "ReplicationFactor", parse.GetValue(n));
            Put(flags, "ReadConsistency", parse.GetValue(r));
            Put(flags, "WriteConsistency", parse.GetValue(w));
            Put(flags, "RequestTimeoutMs", parse.GetValue(timeoutMs));
            Put(flags, "ClusterSecretFile", parse.GetValue(secretFile));
            Put(flags, "TlsCert", parse.GetValue(tlsCert));
            Put(flags, "TlsKey", parse.GetValue(tlsKey));
            Put(flags, "TlsCa", parse.GetValue(tlsCa));
            Put(flags, "ApiTokenFile", parse.GetValue(apiTokenFile));
            Put(flags, "AdminTokenFile", parse.GetValue(adminTokenFile));
            Put(flags, "MaxHttpConnections", parse.GetValue(maxConnections));
            Put(flags, "MaxRequestsPerClient", parse.GetValue(maxPerClient));
            Put(flags, "HeartbeatIntervalMs", parse.GetValue(heartbeatMs));
            Put(flags, "PhiThreshold", parse.GetValue(phiThreshold));
            Put(flags, "DiskReserveBytes", parse.GetValue(diskReserve));
            Put(flags, "PlantedBugs", parse.GetValue(plant));
            repair.PutFlags(parse, flags);
            hints.PutFlags(parse, flags);
            if (parse.GetValue(exitWithParent)) flags[$"{NodeConfig.Section}:ExitWithParent"] = "true";
            if (parse.GetValue(logLevel) is { } level) flags["Logging:LogLevel:Default"] = level;

            var configuration = NodeHost.BuildConfiguration(parse.GetValue(config), flags);
            NodeConfig nodeConfig = NodeConfig.From(configuration);
            NodeSecurity security = NodeSecurity.Load(nodeConfig);
            try
            {
                return NodeHost.RunAsync(nodeConfig, security, configuration).GetAwaiter().GetResult();
            }
            catch (Membership.JoinRefusedException e)
            {
                Console.Error.WriteLine($"meteora: {e.Message}");
                return MeteoraCli.ExitUsage;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Port in use, data directory locked or owned by another node: one line, no stack trace.
                Console.Error.WriteLine($"meteora: node {nodeConfig.NodeId} failed to start: {e.Message}");
                return MeteoraCli.ExitFailure;
            }
        });
        return command;
    }

    private static void Put(Dictionary<string, string?> flags, string key, object? value)
    {
        if (value is null) return;
        flags[$"{NodeConfig.Section}:{key}"] = Convert.ToString(value, CultureInfo.InvariantCulture);
    }
}
