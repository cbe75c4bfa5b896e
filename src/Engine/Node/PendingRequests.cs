using Meteora.Engine.Versioning;

namespace Meteora.Engine.Node;

/// <summary>
/// A coordinator request waiting for replicas: an explicit continuation keyed by request id,
/// completed by replies or by its timeout timer.
/// </summary>
internal abstract class PendingRequest(long requestId, ClientRequest client, int[] replicas, int required)
{
    public long RequestId { get; } = requestId;
    public ClientRequest Client { get; } = client;
    public int[] Replicas { get; } = replicas;
    public int Required { get; } = required;
    public bool[] Answered { get; } = new bool[replicas.Length];
    public int AnsweredCount { get; set; }

    /// <summary>Replicas known to have failed: a nack, or a send the transport could not make.</summary>
    public int Failures { get; set; }

    public bool Responded { get; set; }

    /// <summary>True once too many replicas failed for the request to ever reach its R or W.</summary>
    public bool CannotSucceed => Failures > Replicas.Length - Required;

    public bool AllAnswered => AnsweredCount == Replicas.Length;

    /// <summary>Marks <paramref name="replica"/> as answered; false for a stranger or a duplicate.</summary>
    public bool TryMarkAnswered(int replica, out int index)
    {
        index = Array.IndexOf(Replicas, replica);
        if (index < 0 || Answered[index]) return false;
        Answered[index] = true;
        AnsweredCount++;
        return true;
    }
}

internal sealed class PendingWrite(long requestId, ClientRequest client, int[] replicas, int required, StoredValue written)
    : PendingRequest(requestId, client, replicas, required)
{
    public StoredValue Written { get; } = written;
    public int Acks { get; set; }
}

internal sealed class PendingRead(long requestId, ClientRequest client, int[] replicas, int required)
    : PendingRequest(requestId, client, replicas, required)
{
    /// <summary>What each replica answered (null: no entry, not answered yet, or failed).</summary>
    public StoredValue?[] Replies { get; } = new StoredValue?[replicas.Length];

    /// <summary>Replicas that could not be reached (not replies: never read-repaired).</summary>
    public bool[] Unreachable { get; } = new bool[replicas.Length];

    /// <summary>Replicas that actually replied (answered minus failed).</summary>
    public int ReplyCount => AnsweredCount - Failures;
}
