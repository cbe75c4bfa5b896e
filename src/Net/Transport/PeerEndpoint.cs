using System.Globalization;

namespace Meteora.Net.Transport;

/// <summary>Where a peer's node listens for peer connections.</summary>
public sealed record PeerEndpoint(int NodeId, string Host, int Port)
{
    public override string ToString() => $"{NodeId}={Host}:{Port}";

    /// <summary>Parses <c>ID=HOST:PORT</c>; throws <see cref="FormatException"/> naming the problem.</summary>
    public static PeerEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        int equals = trimmed.IndexOf('=');
        int colon = trimmed.LastIndexOf(':');
        if (equals <= 0 || colon <= equals + 1 || colon == trimmed.Length - 1)
        {
            throw new FormatException($"peer '{text}' is not ID=HOST:PORT");
        }
        if (!int.TryParse(trimmed.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id < 0)
        {
            throw new FormatException($"peer '{text}' has a bad node id (expected a non-negative integer)");
        }
        string host = trimmed[(equals + 1)..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (!int.TryParse(trimmed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new FormatException($"peer '{text}' has a bad port (expected 1..65535)");
        }
        return new PeerEndpoint(id, host, port);
    }

    /// <summary>Where peers dial this endpoint, as a ring member's address: HOST:PORT.</summary>
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>HOST:PORT</c> (a ring member's address, or <c>--join</c>) for node <paramref name="nodeId"/>; throws <see cref="FormatException"/>.</summary>
    public static PeerEndpoint ParseAddress(int nodeId, string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        string trimmed = address.Trim();
        int colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1) throw new FormatException($"address '{address}' is not HOST:PORT");
        string host = trimmed[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (!int.TryParse(trimmed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new FormatException($"address '{address}' has a bad port (expected 1..65535)");
        }
        return new PeerEndpoint(nodeId, host, port);
    }

    /// <summary>Parses a comma-separated list; duplicate ids are an error.</summary>
    public static IReadOnlyList<PeerEndpoint> ParseList(string? text)
    {
        var peers = new List<PeerEndpoint>();
        if (string.IsNullOrWhiteSpace(text)) return peers;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            PeerEndpoint peer = Parse(part);
            if (peers.Exists(p => p.NodeId == peer.NodeId))
            {
                throw new FormatException($"peer id {peer.NodeId} is listed twice");
            }
            peers.Add(peer);
        }
        return peers;
    }
}
