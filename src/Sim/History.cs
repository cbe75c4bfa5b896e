using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Sim;

/// <summary>One client operation: what was asked (invoke) and what came back (completion).</summary>
public sealed class OpRecord
{
    public required long Id { get; init; }
    public required int Client { get; init; }
    public required int Coordinator { get; init; }
    public required ClientOperation Operation { get; init; }
    public required string Key { get; init; }
    public byte[]? Value { get; init; }
    public required int Consistency { get; init; }
    public required long InvokeMicros { get; init; }

    public long CompleteMicros { get; set; } = -1;
    public ClientStatus? Status { get; set; }
    public WriteVersion ResultVersion { get; set; }
    public byte[]? ResultValue { get; set; }
    public int Acks { get; set; }

    public bool Completed => CompleteMicros >= 0;
    public bool IsWrite => Operation != ClientOperation.Get;
    public bool Acknowledged => IsWrite && Status == ClientStatus.Ok;

    public override string ToString()
    {
        string what = Operation switch
        {
            ClientOperation.Get => $"get {Key} R={Consistency}",
            ClientOperation.Set => $"set {Key}={System.Text.Encoding.UTF8.GetString(Value ?? [])} W={Consistency}",
            _ => $"delete {Key} W={Consistency}",
        };
        string result = Completed ? $"{Status} v={ResultVersion} at {CompleteMicros / 1000.0:F3}ms" : "incomplete";
        return $"op#{Id} client{Client}@node{Coordinator} {what} invoked {InvokeMicros / 1000.0:F3}ms -> {result}";
    }
}

/// <summary>Every operation of a run, in invocation order.</summary>
public sealed class History
{
    private readonly List<OpRecord> _ops = [];

    public IReadOnlyList<OpRecord> Operations => _ops;

    public void Add(OpRecord op) => _ops.Add(op);
}
