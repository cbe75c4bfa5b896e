using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Cli;

public sealed class JoinCliTests
{
    [Theory]
    [InlineData("--join", "seed-without-port", "meteora: --join: address 'seed-without-port' is not HOST:PORT")]
    [InlineData("--join", "127.0.0.1:99999", "meteora: --join: address '127.0.0.1:99999' has a bad port (expected 1..65535)")]
    [InlineData("--peers", "0=127.0.0.1:7000", "meteora: --join and --peers exclude each other: a joining node learns its peers from the ring")]
    public async Task BadJoinFlagsAreOneLineAndExit2(string option, string value, string expected)
    {
        using var dir = new TempDir("meteora-join-cli");
        string[] args = option == "--join"
            ? ["node", "--id", "5", "--data", dir.Path, "--join", value]
            : ["node", "--id", "5", "--data", dir.Path, "--join", "127.0.0.1:7000", option, value];
        ProcessResult result = await MeteoraProcess.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Stderr.Trim());
    }

    [Fact]
    public async Task AJoinerListeningOnAllAddressesMustSayWhichAddressPeersDial()
    {
        using var dir = new TempDir("meteora-join-cli");
        string secret = Path.Combine(dir.Path, "cluster.secret");
        Meteora.Net.Security.SecretFile.CreateRandom(secret);
        ProcessResult result = await MeteoraProcess.RunAsync(["node", "--id", "5", "--data", Path.Combine(dir.Path, "data"), "--host", "0.0.0.0",
            "--join", "127.0.0.1:7000", "--cluster-secret-file", secret]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("meteora: --host 0.0.0.0 is no address peers can dial: give --peer-address HOST:PORT for a joining node", result.Stderr.Trim());
    }
}
