namespace Meteora.Sim;

internal enum SimEventKind : byte
{
    ClientInvoke = 1,
    Deliver = 2,
    Timer = 3,
    DiskComplete = 4,
    FaultStart = 5,
    FaultEnd = 6,
    SendFailed = 7,
    OperatorTick = 8,
}

/// <summary>
/// One scheduled happening. Ordered in the queue by (virtual time, sequence number). A struct held in
/// the queue's own array: one object per event was 14 % of the simulator's allocated bytes (issue 11).
/// </summary>
internal readonly struct SimEvent
{
    public required SimEventKind Kind { get; init; }
    public required int Node { get; init; }
    public int From { get; init; }
    public long Id { get; init; }

    /// <summary>For a timer: the engine room that owns it (with <see cref="Id"/>, the engine's TimerId).</summary>
    public Meteora.Engine.Runtime.TimerOwner Owner { get; init; }
    /// <summary>For a delivery or a failed send: a pooled buffer whose first <see cref="FrameLength"/> bytes are the encoded message.</summary>
    public byte[]? Frame { get; init; }
    public int FrameLength { get; init; }

    /// <summary>For a node's timers and disk completions: the incarnation that scheduled them (a crash voids them).</summary>
    public int Incarnation { get; init; }
}
