using System.Buffers.Binary;
using Meteora.Engine.Node;
using Meteora.Engine.Ring;
using Meteora.Net.Runtime;
using Meteora.Net.Security;
using Meteora.Net.Storage;
using Meteora.Net.Transport;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Hosting;

/// <summary>
/// One node's moving parts wired together: RocksDB storage, event loop, peer transport and the engine.
/// Construction opens the database and checks its identity; <see cref="Start"/> starts the loop and the
/// outbound peer links; <see cref="StopAsync"/> stops them and closes the database after a last sync.
/// </summary>
public sealed class NodeRuntime : IAsyncDisposable
{
    private const string NodeIdMetadataKey = "node-id";
    private const string PartitionsMetadataKey = "partitions";

    private readonly ILogger _logger;
    private bool _started;
    private bool _stopped;

    private NodeRuntime(NodeConfig config, ReplicaPlacement placement, RocksDbStorage storage, EventLoop loop,
        PeerTransport transport, ClientGateway gateway, MeteoraNode node, Metrics.NodeMetrics metrics, ILogger logger)
    {
        Config = config;
        Placement = placement;
        Storage = storage;
        Loop = loop;
        Transport = transport;
        Gateway = gateway;
        Node = node;
        Metrics = metrics;
        _logger = logger;
        StartedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    public NodeConfig Config { get; }
    public ReplicaPlacement Placement { get; }
    public RocksDbStorage Storage { get; }
    public EventLoop Loop { get; }
    public PeerTransport Transport { get; }
    public ClientGateway Gateway { get; }
    public MeteoraNode Node { get; }

    /// <summary>This node's Prometheus metrics (<c>GET /metrics</c>).</summary>
    public Metrics.NodeMetrics Metrics { get; }
    public long StartedUnixMs { get; }

    /// <summary>Set when the node must stop (a failed WAL sync); the host watches it.</summary>
    public CancellationTokenSource FatalStop { get; } = new();

    /// <summary>The ring as configured: this node and its peers, all normal, with the addresses peers dial.</summary>
    private static Engine.Membership.RingState InitialRing(NodeConfig config)
    {
        var members = new List<(int, string)> { (config.NodeId, $"{config.Host}:{config.PeerPort}") };
        foreach (PeerEndpoint peer in config.Peers)
        {
            if (peer.NodeId != config.NodeId) members.Add((peer.NodeId, $"{peer.Host}:{peer.Port}"));
        }
        return Engine.Membership.RingState.Initial(config.Partitions, config.ReplicationFactor, members);
    }

    public static NodeRuntime Create(NodeConfig config, NodeSecurity security, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggers);
        ILogger logger = loggers.CreateLogger<NodeRuntime>();
        var layout = RingLayout.Create(config.Partitions, config.RingNodes());
        var placement = new ReplicaPlacement(layout, config.ReplicationFactor);
        var loop = new EventLoop(loggers.CreateLogger<EventLoop>());
        string dbPath = Path.Combine(config.DataDir, "db");
        RocksDbStorage storage = DiskFullStartup.OpenWaitingForSpace(() =>
        {
            RocksDbStorage opened = RocksDbStorage.Open(dbPath, loop, new DiskSpaceGuard(dbPath, config.DiskReserveBytes));
            try
            {
                CheckIdentity(opened, config);
            }
            catch
            {
                opened.Dispose();
                throw;
            }
            return opened;
        }, logger);
        var transport = new PeerTransport(config.NodeId, config.Partitions, config.Peers, loggers, failures: loop,
            secret: security.Secret, tls: security.Tls);
        var gateway = new ClientGateway();
        var node = new MeteoraNode(config.ToNodeOptions(), placement, new SystemClock(), loop, transport, storage, new SystemRandom(), gateway,
            ring: InitialRing(config));
        gateway.Attach(loop);
        var metrics = new Metrics.NodeMetrics(loop, storage, transport, node.Counters);
        (loop.Metrics, storage.Metrics, gateway.Metrics) = (metrics.Loop, metrics.Storage, metrics.Client);
        var runtime = new NodeRuntime(config, placement, storage, loop, transport, gateway, node, metrics, logger);
        loop.Faulted += e => runtime.FatalStop.Cancel(); // logged by the loop; the host exits non-zero
        storage.Faulted += e =>
        {
            logger.LogCritical("WAL sync failed, stopping the node: {Reason}", e.Message);
            runtime.FatalStop.Cancel();
        };
        return runtime;
    }

    /// <summary>
    /// A data directory belongs to one node id and one partition count: reusing it under another id
    /// would serve another node's replicas, and another Q would file keys under the wrong partitions.
    /// </summary>
    private static void CheckIdentity(RocksDbStorage storage, NodeConfig config)
    {
        byte[]? storedId = storage.ReadMetadata(NodeIdMetadataKey);
        byte[]? storedPartitions = storage.ReadMetadata(PartitionsMetadataKey);
        if (storedId is not null && BinaryPrimitives.ReadInt32BigEndian(storedId) is var id && id != config.NodeId)
        {
            throw new InvalidOperationException($"data directory {config.DataDir} belongs to node {id}, not node {config.NodeId}");
        }
        if (storedPartitions is not null && BinaryPrimitives.ReadInt32BigEndian(storedPartitions) is var q && q != config.Partitions)
        {
            throw new InvalidOperationException($"data directory {config.DataDir} was created with {q} partitions, not {config.Partitions}");
        }
        var buffer = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, config.NodeId);
        storage.WriteMetadata(NodeIdMetadataKey, buffer);
        buffer = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, config.Partitions);
        storage.WriteMetadata(PartitionsMetadataKey, buffer);
    }

    public void Start()
    {
        if (_started) throw new InvalidOperationException("node already started");
        _started = true;
        Loop.Start(Node);
        Transport.Start();
        _logger.LogInformation("node {Node} started: ring of {Nodes} nodes, Q={Partitions}, N={N}, R={R}, W={W}, data {DataDir}",
            Config.NodeId, Placement.Layout.NodeCount, Config.Partitions, Config.ReplicationFactor,
            Node.DefaultReadConsistency, Node.DefaultWriteConsistency, Config.DataDir);
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await Transport.DisposeAsync().ConfigureAwait(false);
        Loop.Stop();
        Gateway.AbandonAll();
        Storage.Dispose();
        _logger.LogInformation("node {Node} stopped", Config.NodeId);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
