using Meteora.Engine.Hashing;

namespace Meteora.Tests.Property;

public sealed class HashTests
{
    /// <summary>Vectors from tools/murmur3_vectors.py, an independent implementation written from the algorithm's description.</summary>
    public static TheoryData<uint, string, string> Vectors()
    {
        var data = new TheoryData<uint, string, string>();
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", "murmur3_x64_128.txt");
        foreach (string line in File.ReadAllLines(path))
        {
            string[] parts = line.Split(' ');
            data.Add(uint.Parse(parts[0]), parts[1] == "-" ? "" : parts[1], parts[2]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Digest_matches_independent_implementation(uint seed, string inputHex, string expectedHex)
    {
        byte[] input = Convert.FromHexString(inputHex);
        Span<byte> digest = stackalloc byte[16];
        MurmurHash3.Hash128(input, seed, digest);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void Vector_file_covers_lengths_0_to_40_for_several_seeds()
    {
        var covered = new HashSet<(uint, int)>();
        foreach (var row in Vectors())
        {
            covered.Add(((uint)row[0], ((string)row[1]).Length / 2));
        }
        foreach (uint seed in new uint[] { 0, 1, 42, 0x9747B28C, 0xFFFFFFFF })
        {
            for (int length = 0; length <= 40; length++) Assert.Contains((seed, length), covered);
        }
    }

    [Theory]
    [InlineData("", "00000000000000000000000000000000")]
    [InlineData("hello", "029bbd41b3a7d8cb191dae486a901e5b")]
    public void Issue_examples(string text, string expectedHex)
    {
        Span<byte> digest = stackalloc byte[16];
        MurmurHash3.Hash128(System.Text.Encoding.UTF8.GetBytes(text), 0, digest);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void Token_is_digest_read_big_endian_and_partition_is_its_top_bits()
    {
        Token token = Token.OfKey("hello");
        Assert.Equal("029bbd41b3a7d8cb191dae486a901e5b", token.ToHex());
        Assert.Equal(0x02 >> 2, token.Partition(64)); // top 6 bits of 0x02... = 000000
        Assert.Equal(0x029b >> 6, token.Partition(1024));
        Assert.Equal(0, token.Partition(1));
    }

    [Fact]
    public void Hashing_does_not_allocate()
    {
        byte[] input = new byte[100];
        Span<byte> digest = stackalloc byte[16];
        MurmurHash3.Hash128(input, 0, digest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) MurmurHash3.Hash128(input, (uint)i, digest);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
