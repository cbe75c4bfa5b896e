using System.Text;
using System.Text.Json;
using Meteora.Checking;
using Meteora.Engine.Node;

namespace Meteora.Nemesis;

/// <summary>The outcome of a run; <see cref="ToJson"/> is the last line the run prints.</summary>
internal sealed record RunReport(
    ulong Seed,
    int OpsOk,
    int OpsFailed,
    int AckedWrites,
    int LostAckedWrites,
    int Resurrected,
    int Invented,
    int StaleReads,
    int SkewDiscardedWrites,
    bool Converged,
    int FaultsApplied,
    string RunDir,
    IReadOnlyList<Violation> Violations)
{
    public bool Ok => Violations.Count == 0;

    public static RunReport From(NemesisOptions options, IReadOnlyList<OpRecord> ops, IReadOnlyList<Violation> violations,
        int skewDiscarded, bool converged, int faultsApplied, string runDir)
    {
        int ok = 0, failed = 0, acked = 0;
        foreach (OpRecord op in ops)
        {
            if (op.Quiescence) continue;
            if (op.Status is ClientStatus.Ok or ClientStatus.NotFound) ok++;
            else failed++;
            if (op.Acknowledged) acked++;
        }
        int Total(ViolationKind kind) => violations.Where(v => v.Kind == kind).Sum(v => v.Count);
        return new RunReport(options.Seed, ok, failed, acked, Total(ViolationKind.Durability), Total(ViolationKind.Resurrection),
            Total(ViolationKind.InventedData), Total(ViolationKind.Freshness), skewDiscarded, converged, faultsApplied, runDir, violations);
    }

    public string ToJson() => JsonLine.Object(json =>
    {
        json.WriteNumber("seed", Seed);
        json.WriteBoolean("ok", Ok);
        json.WriteNumber("opsOk", OpsOk);
        json.WriteNumber("opsFailed", OpsFailed);
        json.WriteNumber("ackedWrites", AckedWrites);
        json.WriteNumber("lostAckedWrites", LostAckedWrites);
        json.WriteNumber("resurrected", Resurrected);
        json.WriteNumber("invented", Invented);
        json.WriteNumber("staleReads", StaleReads);
        json.WriteNumber("skewDiscardedWrites", SkewDiscardedWrites);
        json.WriteBoolean("converged", Converged);
        json.WriteNumber("faultsApplied", FaultsApplied);
        JsonLine.WriteViolations(json, Violations.Select(v => v.Text));
    });
}

/// <summary>The history as JSON lines (one operation each), kept in the run folder for replay and inspection.</summary>
internal static class HistoryFile
{
    public static void Write(string path, IReadOnlyList<OpRecord> ops)
    {
        using var writer = new StreamWriter(path);
        foreach (OpRecord op in ops)
        {
            writer.WriteLine(JsonSerializer.Serialize(new
            {
                id = op.Id,
                client = op.Client,
                node = op.Coordinator,
                op = op.Operation.ToString().ToLowerInvariant(),
                key = op.Key,
                value = op.Value is null ? null : Encoding.UTF8.GetString(op.Value),
                consistency = op.Consistency,
                invokeMicros = op.InvokeMicros,
                completeMicros = op.CompleteMicros,
                status = op.Status?.ToString(),
                version = op.ResultVersion.IsZero ? null : op.ResultVersion.ToString(),
                result = op.ResultValue is null ? null : Encoding.UTF8.GetString(op.ResultValue),
                error = op.Error,
                quiescence = op.Quiescence,
            }));
        }
    }
}
