namespace Meteora.Engine.Runtime;

/// <summary>
/// Fault points inside engine code paths (FoundationDB's BUGGIFY): the simulator switches sites on
/// per run from its seed and decides, per call, whether a site fires. Real mode passes
/// <see cref="NoBuggify"/>. Every site only makes things slower or flakier, never incorrect: a correct
/// engine must keep every invariant with any site firing.
/// </summary>
public interface IBuggify
{
    bool Fires(BuggifySite site);
}

public enum BuggifySite
{
    /// <summary>The coordinator gives this request a twentieth of its normal timeout.</summary>
    ShortRequestTimeout = 0,

    /// <summary>A replica holds a read reply back for a while before sending it.</summary>
    DelayReadReply = 1,

    /// <summary>A replica holds a durable write's ack back for a while before sending it.</summary>
    DelayWriteAck = 2,

    /// <summary>The coordinator sends each read repair twice.</summary>
    DuplicateReadRepair = 3,
}

public sealed class NoBuggify : IBuggify
{
    public static readonly NoBuggify Instance = new();

    public bool Fires(BuggifySite site) => false;
}
