using System.Text;
using Meteora.Engine.Protocol;
using Meteora.Engine.Versioning;

namespace Meteora.Tests.Property;

public sealed class KeyInternerTests
{
    [Fact]
    public void The_same_bytes_give_back_the_same_string()
    {
        var keys = new KeyInterner();
        string first = keys.GetOrDecode("user:42"u8);
        string second = keys.GetOrDecode("user:42"u8);
        Assert.Equal("user:42", second);
        Assert.Same(first, second);
        Assert.Equal(1, keys.Hits);
    }

    [Fact]
    public void Keys_sharing_a_slot_replace_each_other_and_never_mix_up()
    {
        var keys = new KeyInterner();
        // Enough distinct keys that many share slots: every answer must still be its own key.
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 5 * KeyInterner.Slots; i++)
            {
                string expected = "k" + i;
                string got = keys.GetOrDecode(Encoding.UTF8.GetBytes(expected));
                Assert.Equal(expected, got);
            }
        }
    }

    [Fact]
    public void Long_keys_are_decoded_every_time_and_not_kept()
    {
        var keys = new KeyInterner();
        byte[] longKey = Encoding.UTF8.GetBytes(new string('x', KeyInterner.MaxInternedKeyBytes + 1));
        string first = keys.GetOrDecode(longKey);
        string second = keys.GetOrDecode(longKey);
        Assert.Equal(first, second);
        Assert.NotSame(first, second);
        Assert.Equal(0, keys.Hits);
    }

    [Fact]
    public void An_invalid_key_is_a_protocol_error_and_leaves_nothing_behind()
    {
        var keys = new KeyInterner();
        byte[] good = MessageCodec.Encode(new ReplicaWriteAck(1, true));
        byte[] write = MessageCodec.Encode(new ReplicaWrite(7, "ab", new WriteVersion(5, 1), [1]));
        int keyAt = Array.IndexOf(write, (byte)'a');
        write[keyAt] = 0xff; // not UTF-8
        var e = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(write, keys));
        Assert.Contains("not valid UTF-8", e.Message);
        Assert.Equal(new ReplicaWriteAck(1, true), MessageCodec.Decode(good, keys));
        write[keyAt] = (byte)'a';
        var decoded = Assert.IsType<ReplicaWrite>(MessageCodec.Decode(write, keys));
        Assert.Equal("ab", decoded.Key);
        Assert.Equal(0, keys.Hits);
    }
}
