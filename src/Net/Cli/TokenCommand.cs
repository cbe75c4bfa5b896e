using System.CommandLine;
using System.Numerics;
using Meteora.Engine;
using Meteora.Engine.Hashing;
using Meteora.Engine.Node;

namespace Meteora.Net.Cli;

/// <summary><c>meteora token KEY [--partitions Q]</c>: the key's ring token (hex) and its partition.</summary>
public static class TokenCommand
{
    public const int DefaultPartitions = 64;

    public static Command Create()
    {
        var partitions = new Option<int>("--partitions") { Description = "Partition count Q (a power of two)", DefaultValueFactory = _ => DefaultPartitions };
        var key = new Argument<string>("KEY") { Description = "The key (UTF-8)" };
        var command = new Command("token", "Print a key's token and partition");
        command.Options.Add(partitions);
        command.Arguments.Add(key);
        command.SetAction(parse =>
        {
            int q = parse.GetValue(partitions);
            RequirePartitionCount(q);
            string keyValue = parse.GetValue(key)!;
            string? error = RequestValidation.CheckKey(keyValue);
            if (error is not null) throw new CliUsageException(error);
            Token token = Token.OfKey(keyValue);
            Console.Out.WriteLine($"token={token.ToHex()} partition={token.Partition(q)} partitions={q}");
            return MeteoraCli.ExitOk;
        });
        return command;
    }

    public static void RequirePartitionCount(int q)
    {
        if (q < 1 || q > Limits.MaxPartitions || !BitOperations.IsPow2(q))
        {
            throw new CliUsageException($"--partitions must be a power of two in 1..{Limits.MaxPartitions}, got {q}");
        }
    }
}
