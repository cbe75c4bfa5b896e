using Meteora.Net.Cli;

namespace Meteora.Net.Cluster;

/// <summary>Shape of a local development cluster: K nodes on consecutive ports of one host.</summary>
public sealed record ClusterOptions
{
    public const int MaxNodes = 64;

    public int Nodes { get; init; } = 3;
    public string DataDir { get; init; } = "data";
    public string Host { get; init; } = "127.0.0.1";
    public int HttpPortBase { get; init; } = 9000;
    public int PeerPortBase { get; init; } = 7000;
    public int Partitions { get; init; } = 64;
    public int? ReplicationFactor { get; init; }
    public int? ReadConsistency { get; init; }
    public int? WriteConsistency { get; init; }
    public int StartTimeoutMs { get; init; } = 30_000;

    /// <summary>Extra flags every child <c>meteora node</c> gets (the repair settings), already validated.</summary>
    public IReadOnlyList<string> NodeArgs { get; init; } = [];

    public int EffectiveReplicationFactor => ReplicationFactor ?? Math.Min(3, Nodes);

    public int HttpPort(int node) => HttpPortBase + node;
    public int PeerPort(int node) => PeerPortBase + node;
    public string NodeDataDir(int node) => Path.Combine(DataDir, $"node-{node}");

    /// <summary>The cluster secret every child proves to its peers; created on first start.</summary>
    public string SecretFile => Path.Combine(DataDir, "cluster.secret");

    public void Validate()
    {
        if (Nodes is < 1 or > MaxNodes) throw new CliUsageException($"--nodes must be in 1..{MaxNodes}, got {Nodes}");
        CheckPortRange(HttpPortBase, "--http-port");
        CheckPortRange(PeerPortBase, "--peer-port");
        bool overlap = HttpPortBase < PeerPortBase + Nodes && PeerPortBase < HttpPortBase + Nodes;
        if (overlap) throw new CliUsageException($"HTTP ports {HttpPortBase}.. and peer ports {PeerPortBase}.. overlap for {Nodes} nodes");
        TokenCommand.RequirePartitionCount(Partitions);
        if (EffectiveReplicationFactor < 1) throw new CliUsageException($"--n must be at least 1, got {EffectiveReplicationFactor}");
        if (StartTimeoutMs < 1) throw new CliUsageException("start timeout must be positive");
    }

    private void CheckPortRange(int basePort, string name)
    {
        if (basePort < 1 || basePort + Nodes - 1 > 65535)
        {
            throw new CliUsageException($"{name} {basePort} leaves no room for {Nodes} consecutive ports");
        }
    }
}
