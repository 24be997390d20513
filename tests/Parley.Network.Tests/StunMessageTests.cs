using System.Net;
using Parley.Network.Tests.Turn;

namespace Parley.Network.Tests;

/// <summary>StunMessageTests check the STUN encoding against the test vectors of RFC 5769.</summary>
public sealed class StunMessageTests
{
    // RFC 5769 section 2.1: a Binding request with short-term credentials (password
    // "VOkJxbRl1RmTxUk/WvJxBt"), SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY",
    // MESSAGE-INTEGRITY and FINGERPRINT. Its paddings are spaces, not zeros.
    private static readonly byte[] SampleRequest = Convert.FromHexString(
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
        + "002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014"
        + "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf");

    // RFC 5769 section 2.2: the IPv4 success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
    private static readonly byte[] SampleIPv4Response = Convert.FromHexString(
        "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000200008"
        + "0001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96");

    // RFC 5769 section 2.3: the IPv6 success response, 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
    private static readonly byte[] SampleIPv6Response = Convert.FromHexString(
        "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000200014"
        + "0002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275"
        + "bfe3ed4180280004c8fb0b4c");

    // RFC 5769 section 2.4: a request with long-term credentials: USERNAME "マトリックス", NONCE,
    // REALM "example.org", MESSAGE-INTEGRITY keyed with the password "TheMatrIX" (after
    // SASLprep), zero paddings and no FINGERPRINT.
    private static readonly byte[] SampleLongTermRequest = Convert.FromHexString(
        "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe3"
        + "82b900000015001c662f2f3439396b39353464364f4c33346f4c394653547679363473410014000b"
        + "6578616d706c652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666");

    private const string ShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

    [Fact]
    public void The_sample_request_of_RFC_5769_parses_and_its_integrity_and_fingerprint_verify()
    {
        var message = StunMessage.TryParse(SampleRequest)!;

        Assert.Equal(StunMethod.Binding, message.Method);
        Assert.Equal(StunClass.Request, message.Class);
        Assert.Equal(Convert.FromHexString("b7e7a701bc34d686fa87dfae"), message.TransactionId.ToArray());
        Assert.Equal("STUN test client", message.GetString(StunAttributeType.Software));
        Assert.Equal("evtj:h6vY", message.GetString(StunAttributeType.Username));
        Assert.Equal(0x6e0001ffu, message.GetUInt32(StunAttributeType.Priority));
        Assert.True(message.HasValidIntegrity(StunMessageBuilder.ShortTermKey(ShortTermPassword)));
        Assert.True(message.HasValidFingerprint());
    }

    [Fact]
    public void The_sample_IPv4_response_of_RFC_5769_decodes_its_xor_mapped_address_and_verifies()
    {
        var message = StunMessage.TryParse(SampleIPv4Response)!;

        Assert.Equal(StunClass.SuccessResponse, message.Class);
        Assert.Equal("test vector", message.GetString(StunAttributeType.Software));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), message.GetXorAddress(StunAttributeType.XorMappedAddress));
        Assert.True(message.HasValidIntegrity(StunMessageBuilder.ShortTermKey(ShortTermPassword)));
        Assert.True(message.HasValidFingerprint());
    }

    [Fact]
    public void The_sample_IPv6_response_of_RFC_5769_decodes_its_xor_mapped_address_and_verifies()
    {
        var message = StunMessage.TryParse(SampleIPv6Response)!;

        var expected = new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        Assert.Equal(expected, message.GetXorAddress(StunAttributeType.XorMappedAddress));
        Assert.True(message.HasValidIntegrity(StunMessageBuilder.ShortTermKey(ShortTermPassword)));
        Assert.True(message.HasValidFingerprint());
    }

    [Theory]
    [InlineData("192.0.2.1", 36)]
    [InlineData("2001:db8:1234:5678:11:2233:4455:6677", 36)]
    public void Xor_addresses_encode_to_the_bytes_of_the_RFC_5769_responses(string address, int attributeOffset)
    {
        var vector = address.Contains(':', StringComparison.Ordinal) ? SampleIPv6Response : SampleIPv4Response;
        var transactionId = vector.AsSpan(8, 12);
        var encoded = XorAddress.Encode(new IPEndPoint(IPAddress.Parse(address), 32853), transactionId);

        // In both vectors XOR-MAPPED-ADDRESS follows the 20-byte header and a 16-byte SOFTWARE; its value starts 4 bytes in.
        Assert.Equal(vector.AsSpan(attributeOffset + 4, encoded.Length).ToArray(), encoded);
    }

    [Fact]
    public void A_long_term_request_is_encoded_byte_for_byte_as_in_RFC_5769()
    {
        const string username = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
        var key = StunMessageBuilder.LongTermKey(username, "example.org", "TheMatrIX");

        var built = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, Convert.FromHexString("78ad3433c6ad72c029da412e"))
            .Add(StunAttributeType.Username, username)
            .Add(StunAttributeType.Nonce, "f//499k954d6OL34oL9FSTvy64sA")
            .Add(StunAttributeType.Realm, "example.org")
            .Build(key);

        Assert.Equal(Convert.ToHexString(SampleLongTermRequest), Convert.ToHexString(built));
        Assert.True(StunMessage.TryParse(built)!.HasValidIntegrity(key));
    }

    [Fact]
    public void A_changed_byte_or_a_wrong_key_fails_the_integrity_and_fingerprint_checks()
    {
        var tampered = (byte[])SampleIPv4Response.Clone();
        tampered[43] ^= 0x01; // one bit of the xor-mapped port
        var message = StunMessage.TryParse(tampered)!;

        Assert.False(message.HasValidIntegrity(StunMessageBuilder.ShortTermKey(ShortTermPassword)));
        Assert.False(message.HasValidFingerprint());
        Assert.False(StunMessage.TryParse(SampleIPv4Response)!.HasValidIntegrity(StunMessageBuilder.ShortTermKey("not the password")));
    }

    [Theory]
    [InlineData(StunMethod.Allocate, StunClass.Request, 0x0003)]
    [InlineData(StunMethod.Allocate, StunClass.SuccessResponse, 0x0103)]
    [InlineData(StunMethod.Allocate, StunClass.ErrorResponse, 0x0113)]
    [InlineData(StunMethod.CreatePermission, StunClass.Request, 0x0008)]
    [InlineData(StunMethod.CreatePermission, StunClass.ErrorResponse, 0x0118)]
    [InlineData(StunMethod.Send, StunClass.Indication, 0x0016)]
    [InlineData(StunMethod.Data, StunClass.Indication, 0x0017)]
    public void Message_types_interleave_method_and_class_bits_as_RFC_8489_figure_3_shows(StunMethod method, StunClass @class, int type)
    {
        var message = new StunMessageBuilder(method, @class, new byte[12]).Build();

        Assert.Equal(type, (message[0] << 8) | message[1]);
        var parsed = StunMessage.TryParse(message)!;
        Assert.Equal(method, parsed.Method);
        Assert.Equal(@class, parsed.Class);
    }

    [Fact]
    public void An_error_code_attribute_reads_as_class_times_100_plus_number_and_reason()
    {
        // ERROR-CODE 403 "Forbidden IP": two reserved bytes, class 4, number 3, the reason phrase.
        var message = new StunMessageBuilder(StunMethod.CreatePermission, StunClass.ErrorResponse, new byte[12])
            .Add(StunAttributeType.ErrorCode, [0, 0, 4, 3, .. "Forbidden IP"u8])
            .Build(fingerprint: true);

        Assert.Equal(new StunError(403, "Forbidden IP"), StunMessage.TryParse(message)!.Error);
    }

    [Fact]
    public void Anything_but_one_whole_STUN_message_does_not_parse()
    {
        Assert.Null(StunMessage.TryParse(SampleRequest.AsSpan(0, SampleRequest.Length - 4)));
        Assert.Null(StunMessage.TryParse([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4])); // ChannelData
        var wrongCookie = (byte[])SampleRequest.Clone();
        wrongCookie[4] = 0;
        Assert.Null(StunMessage.TryParse(wrongCookie));
    }
}
