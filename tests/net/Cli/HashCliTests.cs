using Meteora.Tests.Net.Infrastructure;

namespace Meteora.Tests.Net.Cli;

public sealed class HashCliTests
{
    private static Task<ProcessResult> Run(string? stdin, params string[] args) => MeteoraProcess.RunAsync(args, stdin);

    [Theory]
    [InlineData("hello", "029bbd41b3a7d8cb191dae486a901e5b")]
    [InlineData("", "00000000000000000000000000000000")]
    public async Task HashesUtf8Value(string value, string expected)
    {
        ProcessResult result = await Run(null, "hash", value);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected + "\n", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task HexInputMatchesIndependentVectors()
    {
        // From tools/murmur3_vectors.py (an independent Python implementation of the specification).
        Assert.Equal("e7fe1aba01e8166d8c78ae6b966dedd7\n", (await Run(null, "hash", "--hex", "78")).Stdout);
        Assert.Equal("5385d6887f1abd4760d621b523e89bfa\n", (await Run(null, "hash", "--hex", "5900E30D")).Stdout);
        Assert.Equal("029bbd41b3a7d8cb191dae486a901e5b\n", (await Run(null, "hash", "--hex", "68656c6c6f")).Stdout);
    }

    [Fact]
    public async Task SeedChangesTheDigest()
    {
        ProcessResult seeded = await Run(null, "hash", "--seed", "42", "hello");
        Assert.Equal(0, seeded.ExitCode);
        Assert.Matches("^[0-9a-f]{32}\n$", seeded.Stdout);
        Assert.NotEqual("029bbd41b3a7d8cb191dae486a901e5b\n", seeded.Stdout);
        Assert.Equal(seeded.Stdout, (await Run(null, "hash", "--seed", "42", "hello")).Stdout);
    }

    [Fact]
    public async Task ReadsOneValuePerStdinLine()
    {
        ProcessResult result = await Run("hello\n\r\nhello\r\n", "hash");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            "029bbd41b3a7d8cb191dae486a901e5b\n00000000000000000000000000000000\n029bbd41b3a7d8cb191dae486a901e5b\n",
            result.Stdout);
        ProcessResult hex = await Run("78\n68656c6c6f\n", "hash", "--hex");
        Assert.Equal("e7fe1aba01e8166d8c78ae6b966dedd7\n029bbd41b3a7d8cb191dae486a901e5b\n", hex.Stdout);
    }

    [Theory]
    [InlineData("hash", "--hex", "abc")]
    [InlineData("hash", "--hex", "zz")]
    [InlineData("hash", "--seed", "x", "a")]
    [InlineData("hash", "--seed", "-1", "a")]
    [InlineData("hash", "--seed", "4294967296", "a")]
    [InlineData("token", "k", "--partitions", "3")]
    [InlineData("token", "k", "--partitions", "0")]
    [InlineData("token")]
    [InlineData("no-such-command")]
    public async Task BadInputIsOneLineOnStderrAndExit2(params string[] args)
    {
        ProcessResult result = await Run(null, args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        string[] lines = result.Stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("meteora: ", lines[0]);
    }

    [Fact]
    public async Task BadHexOnStdinNamesTheLine()
    {
        ProcessResult result = await Run("78\nxyz1\n", "hash", "--hex");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("line 2", result.Stderr);
    }

    [Fact]
    public async Task TokenPrintsTokenAndPartition()
    {
        ProcessResult result = await Run(null, "token", "hello", "--partitions", "16");
        Assert.Equal(0, result.ExitCode);
        // hello's digest starts with 0x02: top 4 bits are 0 → partition 0 of 16; top 8 bits → 2 of 256.
        Assert.Equal("token=029bbd41b3a7d8cb191dae486a901e5b partition=0 partitions=16\n", result.Stdout);
        ProcessResult q256 = await Run(null, "token", "hello", "--partitions", "256");
        Assert.Contains("partition=2 partitions=256", q256.Stdout);
    }
}
