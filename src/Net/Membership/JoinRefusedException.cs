namespace Meteora.Net.Membership;

/// <summary>The cluster will not take this node (its id is a member already, another Q or N, another secret): exit 2 with the reason.</summary>
public sealed class JoinRefusedException(string message) : Exception(message);
