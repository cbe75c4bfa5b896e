using System.Globalization;
using Meteora.Engine;
using Meteora.Engine.Node;
using Meteora.Engine.Repair;
using Meteora.Net.Cli;
using Meteora.Net.Storage;
using Meteora.Net.Transport;
using Microsoft.Extensions.Configuration;

namespace Meteora.Net.Hosting;

/// <summary>
/// Everything one node needs to start, read from the "Meteora" configuration section (appsettings.json,
/// a --config file, environment variables such as <c>Meteora__HttpPort=9001</c>, then flags).
/// </summary>
public sealed record NodeConfig
{
    public const string Section = "Meteora";
    public const int DefaultHttpPort = 9000;
    public const int DefaultPeerPort = 7000;
    public const int DefaultPartitions = 64;

    /// <summary>Largest HTTP request body. A value may be 1 MiB, and JSON escaping can grow it up to 6x.</summary>
    public const long MaxRequestBodyBytes = 8L * 1024 * 1024;

    public required int NodeId { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    public int HttpPort { get; init; } = DefaultHttpPort;
    public int PeerPort { get; init; } = DefaultPeerPort;
    public required string DataDir { get; init; }
    public IReadOnlyList<PeerEndpoint> Peers { get; init; } = [];

    /// <summary>
    /// <c>--join HOST:PORT</c>: any member's peer address; the node joins that running cluster instead of
    /// forming a ring from <see cref="Peers"/> (the two exclude each other).
    /// </summary>
    public string? Join { get; init; }

    /// <summary>The address peers dial to reach this node (what a joiner announces); null: <see cref="Host"/>:<see cref="PeerPort"/>.</summary>
    public string? PeerAddress { get; init; }

    /// <summary>Partition transfers during ring changes pull at most this many bytes per second.</summary>
    public long StreamBytesPerSecond { get; init; } = DefaultStreamBytesPerSecond;

    public const long DefaultStreamBytesPerSecond = 32L * 1024 * 1024;

    /// <summary>The address this node is known by in the ring.</summary>
    public string AdvertisedPeerAddress => PeerAddress ?? new PeerEndpoint(NodeId, Host, PeerPort).Address;
    public int Partitions { get; init; } = DefaultPartitions;
    public int ReplicationFactor { get; init; } = 3;
    public int? ReadConsistency { get; init; }
    public int? WriteConsistency { get; init; }
    public long RequestTimeoutMs { get; init; } = 1000;

    /// <summary>Merkle trees, anti-entropy and tombstone purges ("Meteora:Repair" section, see <see cref="RepairSettings"/>).</summary>
    public RepairOptions Repair { get; init; } = new();

    /// <summary>Hinted handoff: window, bounds and replay rate ("Meteora:Hints" section, see <see cref="HintSettings"/>).</summary>
    public Engine.Handoff.HintOptions Hints { get; init; } = new();

    /// <summary>Heartbeat interval and phi threshold of the failure detector.</summary>
    public Engine.Membership.FailureDetectorOptions FailureDetector { get; init; } = new();

    /// <summary>File holding the cluster secret every peer proves in the handshake; null: none (loopback only).</summary>
    public string? ClusterSecretFile { get; init; }

    /// <summary>PEM certificate, key and CA for TLS on peer links and HTTP; all three or none.</summary>
    public string? TlsCertFile { get; init; }
    public string? TlsKeyFile { get; init; }
    public string? TlsCaFile { get; init; }

    /// <summary>Files holding the bearer tokens for client calls and for admin calls; null: not required.</summary>
    public string? ApiTokenFile { get; init; }
    public string? AdminTokenFile { get; init; }

    /// <summary>Open HTTP connections beyond this get a 503 and are closed (peer connections are not counted).</summary>
    public int MaxHttpConnections { get; init; } = DefaultMaxHttpConnections;

    /// <summary>Requests one client address may have in flight at once; more get a 429.</summary>
    public int MaxRequestsPerClient { get; init; } = DefaultMaxRequestsPerClient;

    public const int DefaultMaxHttpConnections = 10_000;
    public const int DefaultMaxRequestsPerClient = 2_048;

    /// <summary>Writes are refused (507) while the data directory's file system has less free space than this.</summary>
    public long DiskReserveBytes { get; init; } = DiskSpaceGuard.DefaultMinFreeBytes;

    /// <summary>A deliberate bug (hidden `--plant`), so a real-mode checker can show it catches it; never set in production.</summary>
    public PlantedBug PlantedBugs { get; init; } = PlantedBug.None;

    /// <summary>Exit when standard input closes: set by <c>meteora cluster</c> so children die with their parent.</summary>
    public bool ExitWithParent { get; init; }

    /// <summary>Every ring member: this node plus its peers, ascending.</summary>
    public int[] RingNodes()
    {
        var nodes = new SortedSet<int> { NodeId };
        foreach (PeerEndpoint peer in Peers) nodes.Add(peer.NodeId);
        return [.. nodes];
    }

    public NodeOptions ToNodeOptions() => new()
    {
        NodeId = NodeId,
        ReplicationFactor = ReplicationFactor,
        DefaultReadConsistency = ReadConsistency,
        DefaultWriteConsistency = WriteConsistency,
        RequestTimeoutMs = RequestTimeoutMs,
        Repair = Repair,
        FailureDetector = FailureDetector,
        PlantedBugs = PlantedBugs,
        PeerAddress = AdvertisedPeerAddress,
        StreamBytesPerSecond = StreamBytesPerSecond,
        Hints = Hints,
    };

    /// <summary>Reads and validates the section; problems throw <see cref="CliUsageException"/> naming the setting.</summary>
    public static NodeConfig From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection s = configuration.GetSection(Section);
        IReadOnlyList<PeerEndpoint> peers;
        try
        {
            peers = PeerEndpoint.ParseList(PeersText(s.GetSection("Peers")));
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"peers: {e.Message}");
        }
        var config = new NodeConfig
        {
            NodeId = Int(s, "NodeId", null) ?? throw new CliUsageException("node id is required (--id or Meteora:NodeId)"),
            Host = s["Host"] is { Length: > 0 } host ? host : "127.0.0.1",
            HttpPort = Int(s, "HttpPort", DefaultHttpPort)!.Value,
            PeerPort = Int(s, "PeerPort", DefaultPeerPort)!.Value,
            DataDir = s["DataDir"] is { Length: > 0 } dir ? dir : throw new CliUsageException("data directory is required (--data or Meteora:DataDir)"),
            Peers = peers,
            Join = Text(s, "Join"),
            PeerAddress = Text(s, "PeerAddress"),
            StreamBytesPerSecond = Long(s, "StreamBytesPerSecond", DefaultStreamBytesPerSecond),
            Partitions = Int(s, "Partitions", DefaultPartitions)!.Value,
            ReplicationFactor = Int(s, "ReplicationFactor", 3)!.Value,
            ReadConsistency = Int(s, "ReadConsistency", null),
            WriteConsistency = Int(s, "WriteConsistency", null),
            RequestTimeoutMs = Int(s, "RequestTimeoutMs", 1000)!.Value,
            Repair = RepairSettings.From(s),
            Hints = HintSettings.From(s),
            FailureDetector = new Engine.Membership.FailureDetectorOptions
            {
                HeartbeatIntervalMs = Int(s, "HeartbeatIntervalMs", 200)!.Value,
                PhiThreshold = Double(s, "PhiThreshold", 8),
            },
            ClusterSecretFile = Text(s, "ClusterSecretFile"),
            TlsCertFile = Text(s, "TlsCert"),
            TlsKeyFile = Text(s, "TlsKey"),
            TlsCaFile = Text(s, "TlsCa"),
            ApiTokenFile = Text(s, "ApiTokenFile"),
            AdminTokenFile = Text(s, "AdminTokenFile"),
            MaxHttpConnections = Int(s, "MaxHttpConnections", DefaultMaxHttpConnections)!.Value,
            MaxRequestsPerClient = Int(s, "MaxRequestsPerClient", DefaultMaxRequestsPerClient)!.Value,
            DiskReserveBytes = Long(s, "DiskReserveBytes", DiskSpaceGuard.DefaultMinFreeBytes),
            PlantedBugs = PlantedBugNames.TryParse(s["PlantedBugs"], out PlantedBug bug) ? bug
                : throw new CliUsageException($"planted bug must be {PlantedBugNames.Expected}, got '{s["PlantedBugs"]}'"),
            ExitWithParent = s["ExitWithParent"] is { } exit && bool.TryParse(exit, out bool e2) && e2,
        };
        config.Validate();
        return config;
    }

    public void Validate()
    {
        if (NodeId < 0) throw new CliUsageException($"node id must be non-negative, got {NodeId}");
        RequirePort(HttpPort, "http port");
        RequirePort(PeerPort, "peer port");
        if (HttpPort == PeerPort) throw new CliUsageException($"http port and peer port must differ (both {HttpPort})");
        TokenCommand.RequirePartitionCount(Partitions);
        if (RingNodes().Length > Limits.MaxNodes) throw new CliUsageException($"a ring holds at most {Limits.MaxNodes} nodes");
        CheckJoin();
        // A joiner does not know the ring's size yet; the ring it joins has at least N members.
        int replicas = Join is not null ? ReplicationFactor : Math.Min(ReplicationFactor, RingNodes().Length);
        if (ReadConsistency is { } r && (r < 1 || r > replicas)) throw new CliUsageException($"default readConsistency must be in 1..{replicas}, got {r}");
        if (WriteConsistency is { } w && (w < 1 || w > replicas)) throw new CliUsageException($"default writeConsistency must be in 1..{replicas}, got {w}");
        if (MaxHttpConnections < 1) throw new CliUsageException($"max HTTP connections must be positive, got {MaxHttpConnections}");
        if (MaxRequestsPerClient < 1) throw new CliUsageException($"max requests per client must be positive, got {MaxRequestsPerClient}");
        Security.ProtectedMode.Check(Host, ClusterSecretFile);
        if (DiskReserveBytes < 0) throw new CliUsageException($"disk reserve must be non-negative, got {DiskReserveBytes}");
        RepairSettings.Validate(Repair);
        try
        {
            ToNodeOptions().Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliUsageException(RepairSettings.EngineMessage(e));
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(RepairSettings.EngineMessage(e));
        }
    }

    private void CheckJoin()
    {
        if (PeerAddress is not null) ParseOrUsage(PeerAddress, "--peer-address");
        if (Join is null) return;
        if (Peers.Count > 0) throw new CliUsageException("--join and --peers exclude each other: a joining node learns its peers from the ring");
        ParseOrUsage(Join, "--join");
        if (PeerAddress is null && (Host is "0.0.0.0" or "::" or "[::]"))
        {
            throw new CliUsageException($"--host {Host} is no address peers can dial: give --peer-address HOST:PORT for a joining node");
        }
    }

    private static void ParseOrUsage(string address, string option)
    {
        try
        {
            PeerEndpoint.ParseAddress(0, address);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"{option}: {e.Message}");
        }
    }

    private static void RequirePort(int port, string name)
    {
        if (port is < 1 or > 65535) throw new CliUsageException($"{name} must be in 1..65535, got {port}");
    }

    private static double Double(IConfigurationSection section, string key, double fallback)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new CliUsageException($"{Section}:{key} must be a number, got '{text}'");
        }
        return value;
    }

    private static string? Text(IConfigurationSection section, string key) =>
        section[key] is { Length: > 0 } text ? text : null;

    private static int? Int(IConfigurationSection section, string key, int? fallback)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            throw new CliUsageException($"{Section}:{key} must be an integer, got '{text}'");
        }
        return value;
    }

    private static long Long(IConfigurationSection section, string key, long fallback)
    {
        string? text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
            : throw new CliUsageException($"{Section}:{key} must be an integer, got '{text}'");
    }

    /// <summary>Peers may be one "ID=HOST:PORT,..." string or a JSON array of such strings.</summary>
    private static string? PeersText(IConfigurationSection peers)
    {
        if (peers.Value is not null) return peers.Value;
        var parts = new List<string>();
        foreach (IConfigurationSection child in peers.GetChildren())
        {
            if (child.Value is { } v) parts.Add(v);
        }
        return parts.Count == 0 ? null : string.Join(',', parts);
    }
}
