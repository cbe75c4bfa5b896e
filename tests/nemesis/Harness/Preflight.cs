namespace Meteora.Nemesis;

/// <summary>Refuses to start where the run cannot work or could touch the machine's own network.</summary>
internal static class Preflight
{
    /// <summary>
    /// Whether the node program takes <c>--cluster-secret-file</c> (peers then must share a secret when
    /// they listen on a non-loopback address, as the nodes here do).
    /// </summary>
    public static bool NodeTakesClusterSecret(NemesisOptions options) =>
        Shell.Run("dotnet", options.MeteoraDll, "node", "--help").Contains("--cluster-secret-file", StringComparison.Ordinal);

    public static void Check(NemesisOptions options)
    {
        if (Environment.UserName != "root") throw new EnvironmentException("must run as root (it creates network namespaces, iptables rules and tmpfs mounts)");
        foreach (string tool in new[] { "ip", "iptables", "fallocate", "mount", "kill" })
        {
            if (!Shell.Exists(tool)) throw new EnvironmentException($"{tool} is not installed (.ci/run installs iproute2, iptables and faketime)");
        }
        if (!File.Exists(NodeProcess.FakeTimeLibrary)) throw new EnvironmentException($"{NodeProcess.FakeTimeLibrary} is missing (apt-get install faketime)");
        if (!File.Exists(options.MeteoraDll)) throw new EnvironmentException($"node program {options.MeteoraDll} does not exist (build src/Net first)");
        // A fresh network namespace has only its loopback: anything else means we were started outside
        // tests/nemesis/run, and creating bridges here would change the machine's real network.
        string links = Shell.Run("ip", "-o", "link", "show");
        string[] names = [.. links.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')[1].Trim())];
        if (names.Any(n => n != "lo"))
        {
            throw new EnvironmentException($"not in a fresh network namespace (links: {string.Join(", ", names)}); start it with tests/nemesis/run");
        }
    }
}
