namespace Meteora.Nemesis;

/// <summary>
/// The test's own network: one network namespace per node, each joined by a veth pair to a bridge
/// in the harness's namespace, addresses in 10.77.0.0/24 that exist only here. tests/nemesis/run
/// starts the harness in fresh network, mount and pid namespaces (unshare), so nothing reaches the
/// machine's network, /run/netns is private, and every node dies with the harness.
/// Partitions are iptables DROP rules in the receiving node's namespace.
/// </summary>
internal sealed class NetworkLab
{
    public const string Subnet = "10.77.0";
    public const string BridgeAddress = Subnet + ".254";
    private const string Bridge = "nem0";

    private readonly int _nodes;

    public NetworkLab(int nodes) => _nodes = nodes;

    public static string Namespace(int node) => $"nemesis-n{node}";

    public static string Address(int node) => $"{Subnet}.{node + 1}";

    public void Create()
    {
        // A private /run/netns: names cannot collide with anyone else's namespaces.
        Directory.CreateDirectory("/run/netns");
        Shell.Run("mount", "-t", "tmpfs", "nemesis-netns", "/run/netns");
        Shell.Run("ip", "link", "set", "lo", "up");
        Shell.Run("ip", "link", "add", Bridge, "type", "bridge");
        Shell.Run("ip", "addr", "add", BridgeAddress + "/24", "dev", Bridge);
        Shell.Run("ip", "link", "set", Bridge, "up");
        for (int i = 0; i < _nodes; i++)
        {
            string ns = Namespace(i);
            string hostSide = $"nemv{i}";
            Shell.Run("ip", "netns", "add", ns);
            Shell.Run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Shell.Run("ip", "link", "set", hostSide, "master", Bridge);
            Shell.Run("ip", "link", "set", hostSide, "up");
            Shell.Run("ip", "-n", ns, "addr", "add", Address(i) + "/24", "dev", "eth0");
            Shell.Run("ip", "-n", ns, "link", "set", "eth0", "up");
            Shell.Run("ip", "-n", ns, "link", "set", "lo", "up");
        }
    }

    /// <summary>Drops, in <paramref name="cut"/>.To's namespace, every packet arriving from <paramref name="cut"/>.From.</summary>
    public static void Apply(Cut cut) =>
        Shell.Run("ip", "netns", "exec", Namespace(cut.To), "iptables", "-w", "-A", "INPUT", "-s", Address(cut.From), "-j", "DROP");

    /// <summary>Removes every drop rule of every node.</summary>
    public void HealAll()
    {
        for (int i = 0; i < _nodes; i++) Shell.Run("ip", "netns", "exec", Namespace(i), "iptables", "-w", "-F", "INPUT");
    }

    /// <summary>Drop rules in place now, as "FROM>TO" (for the run log and tests).</summary>
    public IReadOnlyList<Cut> ActiveCuts()
    {
        var cuts = new List<Cut>();
        for (int to = 0; to < _nodes; to++)
        {
            string rules = Shell.Run("ip", "netns", "exec", Namespace(to), "iptables", "-w", "-S", "INPUT");
            for (int from = 0; from < _nodes; from++)
            {
                if (rules.Contains($"-s {Address(from)}/32 -j DROP", StringComparison.Ordinal)) cuts.Add(new Cut(from, to));
            }
        }
        return cuts;
    }
}
