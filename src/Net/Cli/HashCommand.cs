using System.CommandLine;
using System.Text;
using Meteora.Engine.Hashing;

namespace Meteora.Net.Cli;

/// <summary>
/// <c>meteora hash [--seed N] [--hex] [VALUE]</c>: the MurmurHash3 x64_128 digest as 32 lowercase hex
/// digits (the reference implementation's 16 output bytes: h1 then h2, little-endian). Without VALUE,
/// one digest per line of standard input.
/// </summary>
public static class HashCommand
{
    /// <summary>Longest stdin line accepted; bounds memory on runaway input.</summary>
    public const int MaxLineChars = 16 * 1024 * 1024;

    public static Command Create()
    {
        var seed = new Option<uint>("--seed") { Description = "32-bit hash seed", DefaultValueFactory = _ => 0u };
        var hex = new Option<bool>("--hex") { Description = "VALUE (or each stdin line) is hex-encoded bytes, not UTF-8 text" };
        var value = new Argument<string?>("VALUE") { Description = "Value to hash; omitted: hash each line of standard input", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("hash", "Print the MurmurHash3 x64_128 digest of a value");
        command.Options.Add(seed);
        command.Options.Add(hex);
        command.Arguments.Add(value);
        command.SetAction(parse =>
        {
            uint seedValue = parse.GetValue(seed);
            bool isHex = parse.GetValue(hex);
            string? single = parse.GetValue(value);
            if (single is not null)
            {
                Console.Out.WriteLine(Digest(single, isHex, seedValue));
                return MeteoraCli.ExitOk;
            }
            HashLines(Console.In, Console.Out, isHex, seedValue);
            return MeteoraCli.ExitOk;
        });
        return command;
    }

    private static void HashLines(TextReader input, TextWriter output, bool isHex, uint seed)
    {
        long lineNumber = 0;
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length > MaxLineChars)
            {
                throw new CliUsageException($"line {lineNumber} is {line.Length} characters; the limit is {MaxLineChars}");
            }
            try
            {
                output.WriteLine(Digest(line, isHex, seed));
            }
            catch (CliUsageException e)
            {
                throw new CliUsageException($"line {lineNumber}: {e.Message}");
            }
        }
    }

    public static string Digest(string value, bool isHex, uint seed)
    {
        byte[] bytes = isHex ? DecodeHex(value) : Encoding.UTF8.GetBytes(value);
        Span<byte> digest = stackalloc byte[MurmurHash3.DigestSizeBytes];
        MurmurHash3.Hash128(bytes, seed, digest);
        return Convert.ToHexStringLower(digest);
    }

    private static byte[] DecodeHex(string hex)
    {
        if (hex.Length % 2 != 0)
        {
            throw new CliUsageException($"hex value has an odd number of digits ({hex.Length})");
        }
        for (int i = 0; i < hex.Length; i++)
        {
            if (!char.IsAsciiHexDigit(hex[i]))
            {
                throw new CliUsageException($"hex value has a non-hex character '{hex[i]}' at position {i}");
            }
        }
        return Convert.FromHexString(hex);
    }
}
