using System.Text.Json;
using Meteora.Net.Cli;
using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Cli;

public sealed class StatusCommandTests
{
    [Fact]
    public void AMemberReportingAnotherRingVersionIsFlagged()
    {
        using JsonDocument status = JsonDocument.Parse("""
            {"node":0,"ringVersion":12,"claimant":0,"change":"join of node 3","pendingTransfers":5,"members":[
              {"id":0,"address":"127.0.0.1:7000","up":true,"status":"normal","state":"UN","keys":1000,"bytes":2097152,"partitionsOwned":22,"partitionsReplicated":64,"partitionsHeld":64,"hintsPending":17,"ringVersion":12,"ringVersionDiffers":false,"self":true},
              {"id":3,"address":"127.0.0.1:7003","up":false,"status":"joining","state":"DJ","keys":null,"bytes":null,"partitionsOwned":0,"partitionsReplicated":0,"partitionsHeld":null,"hintsPending":null,"ringVersion":9,"ringVersionDiffers":true,"self":false}]}
            """);
        string[] lines = StatusCommand.Render(status.RootElement).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Node 0: ring version 12, claimant 0, join of node 3 in progress, 5 transfers pending", lines[0]);
        Assert.Matches(@"^UN\s+0 \(this\)\s+127\.0\.0\.1:7000\s+1000\s+2\.0 MiB\s+22\s+64\s+64\s+17\s+12$", lines[3]);
        Assert.Matches(@"^DJ\s+3\s+127\.0\.0\.1:7003\s+\?\s+\?\s+0\s+0\s+\?\s+\?\s+9 \*$", lines[4]);
        Assert.Equal("* node 3 reports ring version 9, this node holds 12: the ring has not converged", lines[5]);
    }

    [Fact]
    public async Task AnUnreachableNodeIsOneLineAndExit1()
    {
        int port = FreePorts.Take(1)[0];
        ProcessResult result = await MeteoraProcess.RunAsync(["status", "--node", $"http://127.0.0.1:{port}"]);
        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"meteora: cannot reach http://127.0.0.1:{port}/", line);
        ProcessResult bad = await MeteoraProcess.RunAsync(["leave", "--node", "localhost:9000"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("meteora: --node must be an http:// or https:// URL such as http://127.0.0.1:9000, got 'localhost:9000'", bad.Stderr.Trim());
    }
}
