using System.Buffers.Binary;
using Meteora.Engine.Membership;
using Meteora.Engine.Node;
using Meteora.Engine.Ring;
using Meteora.Net.Membership;
using Meteora.Net.Runtime;
using Meteora.Net.Security;
using Meteora.Net.Storage;
using Meteora.Net.Transport;
using Microsoft.Extensions.Logging;

namespace Meteora.Net.Hosting;

/// <summary>
/// One node's moving parts wired together: RocksDB storage, event loop, peer transport and the engine.
/// Construction opens the database and checks its identity (and, for <c>--join</c>, finds the seed);
/// <see cref="Start"/> starts the loop, the outbound peer links and the membership watcher;
/// <see cref="StopAsync"/> stops them and closes the database after a last sync. Every ring state the
/// node adopts is kept here (<see cref="Ring"/>, for pages that must not wait for the loop) and gives
/// its members peer links.
/// </summary>
public sealed class NodeRuntime : IAsyncDisposable
{
    private const string NodeIdMetadataKey = "node-id";
    private const string PartitionsMetadataKey = "partitions";

    private readonly ILogger _logger;
    private volatile RingState? _ring;
    private bool _started;
    private bool _stopped;

    private NodeRuntime(NodeConfig config, RocksDbStorage storage, EventLoop loop,
        PeerTransport transport, ClientGateway gateway, MeteoraNode node, Metrics.NodeMetrics metrics, ILogger logger)
    {
        Config = config;
        Storage = storage;
        Loop = loop;
        Transport = transport;
        Gateway = gateway;
        Node = node;
        Metrics = metrics;
        _logger = logger;
        StartedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Watcher = new MembershipWatcher(loop, logger, RequestStop, PruneDepartedLinks);
    }

    public NodeConfig Config { get; }

    /// <summary>The ring state the node adopted last (null while a joiner has none). Immutable: safe to read from any thread.</summary>
    public RingState? Ring => _ring;

    /// <summary>The current layout of the adopted ring (reads and quorums); null while a joiner has no ring.</summary>
    public ReplicaPlacement? Placement => _ring?.CurrentPlacement;

    /// <summary>Polls the node for departure and join refusal; keeps its membership figures.</summary>
    public MembershipWatcher Watcher { get; }

    /// <summary>Set when the node stops on its own (departed: 0, join refused: 2); the host watches it.</summary>
    public CancellationTokenSource StopRequested { get; } = new();

    /// <summary>The exit code the node asked for when it stopped on its own, and why.</summary>
    public (int Code, string Reason)? RequestedExit { get; private set; }
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
    private static RingState InitialRing(NodeConfig config)
    {
        var members = new List<(int, string)> { (config.NodeId, config.AdvertisedPeerAddress) };
        foreach (PeerEndpoint peer in config.Peers)
        {
            if (peer.NodeId != config.NodeId) members.Add((peer.NodeId, peer.Address));
        }
        return RingState.Initial(config.Partitions, config.ReplicationFactor, members);
    }

    public static NodeRuntime Create(NodeConfig config, NodeSecurity security, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggers);
        ILogger logger = loggers.CreateLogger<NodeRuntime>();
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
        try
        {
            return Create(config, security, loggers, logger, loop, storage);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    private static NodeRuntime Create(NodeConfig config, NodeSecurity security, ILoggerFactory loggers, ILogger logger, EventLoop loop, RocksDbStorage storage)
    {
        var transport = new PeerTransport(config.NodeId, config.Partitions, config.Peers, loggers, failures: loop,
            secret: security.Secret, tls: security.Tls);
        var gateway = new ClientGateway(config.RequestTimeoutMs + Http.MeteoraHttpApi.ResponseGraceMs);
        RingState? saved = SavedRing(storage);
        MeteoraNode node;
        if (config.Join is { } joinAddress)
        {
            PeerEndpoint seed = (saved is null ? null : JoinSeed.FromSavedRing(saved, config.NodeId, joinAddress))
                ?? JoinSeed.Resolve(config.NodeId, config.Partitions, config.ReplicationFactor, config.AdvertisedPeerAddress, joinAddress,
                    security.Secret, security.Tls, logger);
            transport.AddPeer(seed);
            node = MeteoraNode.Join(config.ToNodeOptions(), config.Partitions, seed.NodeId, new SystemClock(), loop, transport, storage,
                new SystemRandom(), gateway);
        }
        else
        {
            RingState configured = InitialRing(config);
            if (saved is not null && saved.Supersedes(configured) && saved.MemberOf(config.NodeId) is null)
            {
                throw new JoinRefusedException($"node {config.NodeId} is not in its saved ring (version {saved.Version}): it left or was removed; start it with --join HOST:PORT to join again");
            }
            var placement = new ReplicaPlacement(RingLayout.Create(config.Partitions, config.RingNodes()), config.ReplicationFactor);
            node = new MeteoraNode(config.ToNodeOptions(), placement, new SystemClock(), loop, transport, storage, new SystemRandom(), gateway,
                ring: configured);
        }
        gateway.Attach(loop);
        var metrics = new Metrics.NodeMetrics(loop, storage, transport, node.Counters);
        (loop.Metrics, storage.Metrics, gateway.Metrics) = (metrics.Loop, metrics.Storage, metrics.Client);
        var runtime = new NodeRuntime(config, storage, loop, transport, gateway, node, metrics, logger);
        metrics.AttachMembership(runtime);
        if (node.Ring is { } ring) runtime.OnRingAdopted(ring); // a configured or saved ring, adopted before the hook existed
        node.RingAdopted = runtime.OnRingAdopted;
        loop.Faulted += e => runtime.FatalStop.Cancel(); // logged by the loop; the host exits non-zero
        storage.Faulted += e =>
        {
            logger.LogCritical("WAL sync failed, stopping the node: {Reason}", e.Message);
            runtime.FatalStop.Cancel();
        };
        return runtime;
    }

    /// <summary>The ring state saved by an earlier run, or null.</summary>
    private static RingState? SavedRing(RocksDbStorage storage)
    {
        byte[]? saved = storage.ReadRingState();
        if (saved is null) return null;
        try
        {
            return RingStateCodec.Decode(saved);
        }
        catch (Engine.Protocol.ProtocolException e)
        {
            throw new InvalidOperationException($"the saved ring state is corrupt: {e.Message}", e);
        }
    }

    /// <summary>
    /// On the event loop, after every ring state the node adopts: keep it, and give every member a peer
    /// link at its ring address. Never blocks (links start their own tasks). Links of members that left
    /// stay: a departing node's handoff sessions still need answers.
    /// </summary>
    private void OnRingAdopted(RingState ring)
    {
        RingState? previous = _ring;
        _ring = ring;
        foreach (Member member in ring.Members)
        {
            if (member.NodeId == Config.NodeId) continue;
            PeerEndpoint endpoint;
            try
            {
                endpoint = PeerEndpoint.ParseAddress(member.NodeId, member.PeerAddress);
            }
            catch (FormatException e)
            {
                _logger.LogWarning("ring member {Node} has an address peers cannot dial: {Reason}", member.NodeId, e.Message);
                continue;
            }
            Transport.AddPeer(endpoint, evictable: node => _ring?.MemberOf(node) is null);
        }
        if (previous is null || previous.Change != ring.Change || previous.Members.Count != ring.Members.Count)
        {
            _logger.LogInformation("ring version {Version}: {Members} members, claimant {Claimant}, {Change}", ring.Version, ring.Members.Count,
                ring.Claimant, ring.Change is { } change ? $"{change} in progress, {ring.PendingTransfers().Count} transfers pending" : "no change in progress");
        }
    }

    /// <summary>From a peer connection: a node that is in no ring yet asked to join; dial it back so replies reach it.</summary>
    public void OnJoinerAnnounced(int node, string peerAddress)
    {
        if (node == Config.NodeId || Transport.Knows(node)) return;
        try
        {
            Transport.AddPeerIfUnknown(PeerEndpoint.ParseAddress(node, peerAddress), evictable: n => _ring?.MemberOf(n) is null);
        }
        catch (FormatException e)
        {
            _logger.LogWarning("joining node {Node} announced an address peers cannot dial: {Reason}", node, e.Message);
        }
    }

    /// <summary>How long the link to a node that left the ring stays after it went down (its handoff is over by then).</summary>
    public const long DepartedLinkGraceMs = 60_000;

    /// <summary>
    /// Drops links to nodes the ring no longer names once they have been down for
    /// <see cref="DepartedLinkGraceMs"/>: a departed node exited, and redialling it forever is noise.
    /// </summary>
    public void PruneDepartedLinks()
    {
        if (_ring is not { } ring) return;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (PeerLink link in Transport.Links)
        {
            int node = link.Endpoint.NodeId;
            if (ring.MemberOf(node) is null && link.State == PeerLinkState.Down && now - link.StateChangedUnixMs > DepartedLinkGraceMs
                && Transport.RemovePeer(node))
            {
                _logger.LogInformation("forgot peer {Node}: not in the ring and down for over {GraceMs} ms", node, DepartedLinkGraceMs);
            }
        }
    }

    private void RequestStop(int exitCode, string reason)
    {
        RequestedExit ??= (exitCode, reason);
        StopRequested.Cancel();
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
        Watcher.Start();
        RingState? ring = _ring;
        _logger.LogInformation("node {Node} started: {Ring}, Q={Partitions}, N={N}, R={R}, W={W}, data {DataDir}",
            Config.NodeId, ring is null ? $"joining through {Config.Join}" : $"ring version {ring.Version} of {ring.Members.Count} members",
            Config.Partitions, Config.ReplicationFactor, Node.DefaultReadConsistency, Node.DefaultWriteConsistency, Config.DataDir);
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        await Watcher.DisposeAsync().ConfigureAwait(false);
        await Transport.DisposeAsync().ConfigureAwait(false);
        Loop.Stop();
        Gateway.AbandonAll();
        Gateway.Dispose();
        Storage.Dispose();
        _logger.LogInformation("node {Node} stopped", Config.NodeId);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
