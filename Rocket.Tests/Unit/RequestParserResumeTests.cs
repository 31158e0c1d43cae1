using System.Diagnostics;
using System.Text;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>A head that arrives in pieces: parsing resumes where it stopped, and the request line and line endings are judged as soon as they arrive.</summary>
public class RequestParserResumeTests
{
    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Feeds <paramref name="bytes"/> one more byte per call, as a client sending one byte per packet does.</summary>
    private static int FeedByteByByte(byte[] bytes, RequestHead head, ServerLimits limits, out int calls)
    {
        var scan = default(HeadScan);
        for (calls = 1; calls <= bytes.Length; calls++)
        {
            var n = RequestParser.TryParse(bytes.AsSpan(0, calls), head, limits, ref scan);
            if (n > 0)
            {
                return n;
            }
        }

        return 0;
    }

    [Test]
    public void ParserFedOneByteAtATimeDoesLinearWork()
    {
        // 20,000 short field lines (about 260 KB): rescanning from the start on every byte is some 2.6 billion
        // line steps (minutes); resuming is one pass. The bound is two orders of magnitude above the linear cost.
        var limits = new ServerLimits { MaxRequestHeadersTotalSize = 1024 * 1024, MaxRequestHeaderCount = 30_000 };
        var text = new StringBuilder("GET /big HTTP/1.1\r\nHost: h\r\n");
        for (var i = 0; i < 20_000; i++)
        {
            text.Append("X: abcdefgh\r\n");
        }

        var bytes = Bytes(text.Append("\r\n").ToString());
        var head = new RequestHead();
        var watch = Stopwatch.StartNew();
        var length = FeedByteByByte(bytes, head, limits, out var calls);
        watch.Stop();
        Assert.That(length, Is.EqualTo(bytes.Length));
        Assert.That(calls, Is.EqualTo(bytes.Length));
        Assert.That(head.Headers.Count, Is.EqualTo(20_001));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "parsing a head fed byte by byte must stay linear");
    }

    [Test]
    public void ParserResultDoesNotDependOnWhereTheHeadWasSplit()
    {
        const string text = "\r\nPOST http://example.com:8080/a?b HTTP/1.1\r\nHost: ignored.example\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
        var bytes = Bytes(text);
        var limits = new ServerLimits();
        var whole = new RequestHead();
        var expected = RequestParser.TryParse(bytes, whole, limits);
        for (var a = 0; a < bytes.Length; a++)
        {
            for (var b = a; b < bytes.Length; b += 7)
            {
                var head = new RequestHead();
                var scan = default(HeadScan);
                var n = RequestParser.TryParse(bytes.AsSpan(0, a), head, limits, ref scan);
                n = n > 0 ? n : RequestParser.TryParse(bytes.AsSpan(0, b), head, limits, ref scan);
                n = n > 0 ? n : RequestParser.TryParse(bytes, head, limits, ref scan);
                Assert.That(n, Is.EqualTo(expected), $"split at {a} and {b}");
                Assert.That(head.Target, Is.EqualTo("http://example.com:8080/a?b"));
                Assert.That(head.Headers.Count, Is.EqualTo(3));
            }
        }
    }

    [TestCase("GET /hello\r\n", RequestRejectionReason.MissingHttpVersion)]
    [TestCase("GET /hello\n", RequestRejectionReason.MissingHttpVersion)]
    [TestCase("GET / HTTP/1.1\r\n", null)]
    [TestCase("GET / HTTP/3.0\r\n", RequestRejectionReason.UnsupportedHttpVersion)]
    [TestCase("G@T / HTTP/1.1\r\n", RequestRejectionReason.InvalidMethod)]
    [TestCase("GET nothing HTTP/1.1\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("CONNECT /x HTTP/1.1\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("CONNECT example.com HTTP/1.1\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("CONNECT example.com:22 HTTP/1.1\r\n", null)]
    [TestCase("GET http://user:pw@evil.example/ HTTP/1.1\r\n", RequestRejectionReason.InvalidHost)]
    [TestCase("GET http:///x HTTP/1.1\r\n", RequestRejectionReason.InvalidHost)]
    public void ParserJudgesTheRequestLineAsSoonAsItEnds(string line, RequestRejectionReason? reason)
    {
        if (reason is null)
        {
            Assert.That(RequestParser.TryParse(Bytes(line), new RequestHead(), new ServerLimits()), Is.Zero);
            return;
        }

        var e = Assert.Throws<BadRequestException>(() => RequestParser.TryParse(Bytes(line), new RequestHead(), new ServerLimits()))!;
        Assert.That(e.Reason, Is.EqualTo(reason));
        Assert.That(e.StatusCode, Is.EqualTo(reason == RequestRejectionReason.UnsupportedHttpVersion ? 505 : 400));
    }

    [TestCase("GET / HTTP/1.1\rH")]
    [TestCase("GET / HTTP/1.1\r\r")]
    [TestCase("\rGET / HTTP/1.1")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\rX")]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\n\r ")]
    public void ParserRejectsABareCarriageReturnWithoutWaitingForTheLineToEnd(string partial)
    {
        var e = Assert.Throws<BadRequestException>(() => RequestParser.TryParse(Bytes(partial), new RequestHead(), new ServerLimits()))!;
        Assert.That(e.Reason, Is.EqualTo(RequestRejectionReason.BareCarriageReturn));
    }

    [Test]
    public void ParserWaitsWhenACarriageReturnIsTheLastByteReceived()
    {
        var scan = default(HeadScan);
        var head = new RequestHead();
        var limits = new ServerLimits();
        Assert.That(RequestParser.TryParse(Bytes("GET / HTTP/1.1\r"), head, limits, ref scan), Is.Zero);
        Assert.That(RequestParser.TryParse(Bytes("GET / HTTP/1.1\r\nHost: h\r"), head, limits, ref scan), Is.Zero);
        Assert.That(RequestParser.TryParse(Bytes("GET / HTTP/1.1\r\nHost: h\r\n\r"), head, limits, ref scan), Is.Zero);
        Assert.That(RequestParser.TryParse(Bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), head, limits, ref scan), Is.EqualTo(27));
        Assert.That(head.Host, Is.Empty, "Host is applied by the framing step");
        Assert.That(head.Headers["Host"], Is.EqualTo("h"));
    }

    [Test]
    public void ParserAcceptsAHeaderSectionExactlyAtTheLimitHoweverItArrives()
    {
        var limits = new ServerLimits { MaxRequestHeadersTotalSize = 256 };
        const string line = "GET / HTTP/1.1\r\n";
        var field = "X: " + new string('a', 256 - 5) + "\r\n";
        Assert.That(field.Length, Is.EqualTo(256));
        var bytes = Bytes(line + field + "\r\n");
        Assert.That(FeedByteByByte(bytes, new RequestHead(), limits, out _), Is.EqualTo(bytes.Length));
        Assert.That(RequestParser.TryParse(bytes, new RequestHead(), limits), Is.EqualTo(bytes.Length));

        var over = Bytes(line + "X: " + new string('a', 256 - 4) + "\r\n\r\n");
        Assert.That(Assert.Throws<BadRequestException>(() => FeedByteByByte(over, new RequestHead(), limits, out _))!.Reason, Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
        Assert.That(Assert.Throws<BadRequestException>(() => RequestParser.TryParse(over, new RequestHead(), limits))!.Reason, Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
    }
}
