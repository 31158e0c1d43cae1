using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

public class PathDecoderTests
{
    [TestCase("/", "/")]
    [TestCase("/plain/path", "/plain/path")]
    [TestCase("/a%20b", "/a b")]
    [TestCase("/%41%42%43", "/ABC")]
    [TestCase("/%e2%82%ac", "/\u20ac")]
    [TestCase("/%E2%82%AC", "/\u20ac")]
    [TestCase("/caf%C3%A9", "/caf\u00e9")]
    [TestCase("/a%2Fb", "/a%2Fb")]
    [TestCase("/a%2fb", "/a%2fb")]
    [TestCase("/a%252F", "/a%2F")]
    [TestCase("/100%", "/100%")]
    [TestCase("/100%2", "/100%2")]
    [TestCase("/%zz", "/%zz")]
    [TestCase("/a+b", "/a+b")]
    public void DecoderDecodesPercentEscapesButKeepsEncodedSlashes(string raw, string expected)
        => Assert.That(PathDecoder.Decode(raw), Is.EqualTo(expected));

    [TestCase("/%C0%AF")]
    [TestCase("/%E0%80%AF")]
    [TestCase("/%F0%80%80%AF")]
    [TestCase("/%C0%AE%C0%AE/etc")]
    [TestCase("/%FF")]
    [TestCase("/%C3")]
    [TestCase("/%ED%A0%80")]
    public void DecoderRejectsInvalidAndOverlongUtf8(string raw)
    {
        var e = Assert.Throws<BadRequestException>(() => PathDecoder.Decode(raw))!;
        Assert.That(e.Reason, Is.EqualTo(RequestRejectionReason.InvalidRequestTarget));
        Assert.That(e.StatusCode, Is.EqualTo(400));
    }

    [Test]
    public void DecoderReturnsTheSameStringWhenThereIsNothingToDecode()
    {
        const string raw = "/nothing/to/decode";
        Assert.That(PathDecoder.Decode(raw), Is.SameAs(raw));
    }
}
