using Meteora.Engine.Node;
using Meteora.Engine.Versioning;

namespace Meteora.Checking;

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

    /// <summary>Time zero of the run's clock (microseconds since the Unix epoch); times print relative to it.</summary>
    public long EpochMicros { get; init; }

    /// <summary>True for the checker's own reads after healing (not part of the workload).</summary>
    public bool Quiescence { get; init; }

    /// <summary>A strict request (primaryRead/primaryWrite): only primary replicas counted toward R or W.</summary>
    public bool PrimaryOnly { get; set; }

    public long CompleteMicros { get; set; } = -1;
    public ClientStatus? Status { get; set; }
    public WriteVersion ResultVersion { get; set; }
    public byte[]? ResultValue { get; set; }
    public int Acks { get; set; }
    public string? Error { get; set; }

    /// <summary>An operation just invoked (not yet completed), as both worlds' clients record it.</summary>
    public static OpRecord Invoked(long id, int client, int coordinator, ClientOperation operation, string key, byte[]? value,
        int consistency, long invokeMicros, long epochMicros, bool quiescence) => new()
    {
        Id = id,
        Client = client,
        Coordinator = coordinator,
        Operation = operation,
        Key = key,
        Value = value,
        Consistency = consistency,
        InvokeMicros = invokeMicros,
        EpochMicros = epochMicros,
        Quiescence = quiescence,
    };

    public bool Completed => CompleteMicros >= 0;
    public bool IsWrite => Operation != ClientOperation.Get;
    public bool Acknowledged => IsWrite && Status == ClientStatus.Ok;

    private string Ms(long micros) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(micros - EpochMicros) / 1000.0:F3}ms");

    public override string ToString()
    {
        string what = Operation switch
        {
            ClientOperation.Get => $"get {Key} {(PrimaryOnly ? "PR" : "R")}={Consistency}",
            ClientOperation.Set => $"set {Key}={System.Text.Encoding.UTF8.GetString(Value ?? [])} {(PrimaryOnly ? "PW" : "W")}={Consistency}",
            _ => $"delete {Key} {(PrimaryOnly ? "PW" : "W")}={Consistency}",
        };
        string result = Completed ? $"{Status} v={ResultVersion} at {Ms(CompleteMicros)}" : "incomplete";
        string who = Quiescence ? $"checker@node{Coordinator}" : $"client{Client}@node{Coordinator}";
        return $"op#{Id} {who} {what} invoked {Ms(InvokeMicros)} -> {result}";
    }
}

/// <summary>Every operation of a run, in invocation order.</summary>
public sealed class History
{
    private readonly List<OpRecord> _ops;

    /// <param name="expectedOperations">Operations the run plans: room for them up front, so the list never copies itself as it grows.</param>
    public History(int expectedOperations = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedOperations);
        _ops = new List<OpRecord>(expectedOperations);
    }

    public IReadOnlyList<OpRecord> Operations => _ops;

    public void Add(OpRecord op) => _ops.Add(op);
}
