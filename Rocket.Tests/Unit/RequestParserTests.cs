using System.Text;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

public class RequestParserTests
{
    private const string Simple = "GET /a%20b/c%2Fd?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Two: one\r\nx-two: two\r\n\r\n";

    private static int Parse(string text, RequestHead head, ServerLimits? limits = null)
        => RequestParser.TryParse(Encoding.Latin1.GetBytes(text), head, limits ?? new ServerLimits());

    private static RequestRejectionReason Reject(string text, ServerLimits? limits = null)
        => Assert.Throws<BadRequestException>(() => Parse(text, new RequestHead(), limits))!.Reason;

    [Test]
    public void ParserReadsTheRequestLineAndHeaders()
    {
        var head = new RequestHead();
        Assert.That(Parse(Simple, head), Is.EqualTo(Simple.Length));
        Assert.That(head.Method, Is.EqualTo("GET"));
        Assert.That(head.Target, Is.EqualTo("/a%20b/c%2Fd?x=1&y=2"));
        Assert.That(head.RawPath, Is.EqualTo("/a%20b/c%2Fd"));
        Assert.That(head.Path, Is.EqualTo("/a b/c%2Fd"));
        Assert.That(head.QueryString, Is.EqualTo("x=1&y=2"));
        Assert.That(head.Version, Is.EqualTo(HttpVersion.Http11));
        Assert.That(head.Protocol, Is.EqualTo("HTTP/1.1"));
        Assert.That(head.Headers.Count, Is.EqualTo(4));
        Assert.That(head.Headers["host"], Is.EqualTo("example.com"));
        Assert.That(head.Headers.GetCombined("X-Two"), Is.EqualTo("one, two"));
        Assert.That(head.Headers.GetValues("x-TWO"), Is.EqualTo(new[] { "one", "two" }));
    }

    [Test]
    public void ParserReturnsZeroAtEverySplitPointAndParsesTheWholeHead()
    {
        var bytes = Encoding.Latin1.GetBytes(Simple);
        var limits = new ServerLimits();
        for (var split = 0; split < bytes.Length; split++)
        {
            var head = new RequestHead();
            Assert.That(RequestParser.TryParse(bytes.AsSpan(0, split), head, limits), Is.Zero, $"split at {split}");
        }

        var full = new RequestHead();
        Assert.That(RequestParser.TryParse(bytes, full, limits), Is.EqualTo(bytes.Length));
        Assert.That(full.Headers.Count, Is.EqualTo(4));
    }

    [Test]
    public void ParserReturnsOnlyTheHeadLengthWhenABodyOrNextRequestFollows()
    {
        var head = new RequestHead();
        const string first = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
        Assert.That(Parse(first + "abcGET / HTTP/1.1\r\n", head), Is.EqualTo(first.Length));
        Assert.That(head.Method, Is.EqualTo("POST"));
    }

    [Test]
    public void ParserAcceptsBareLineFeedsAndSkipsLeadingEmptyLines()
    {
        var head = new RequestHead();
        const string text = "\r\n\nGET / HTTP/1.0\nHost: h\n\n";
        Assert.That(Parse(text, head), Is.EqualTo(text.Length));
        Assert.That(head.Version, Is.EqualTo(HttpVersion.Http10));
        Assert.That(head.Headers["Host"], Is.EqualTo("h"));
    }

    [Test]
    public void ParserTrimsFieldValueWhitespace()
    {
        var head = new RequestHead();
        Parse("GET / HTTP/1.1\r\nHost: \t h \t\r\nEmpty:\r\n\r\n", head);
        Assert.That(head.Headers["Host"], Is.EqualTo("h"));
        Assert.That(head.Headers["Empty"], Is.EqualTo(string.Empty));
    }

    [Test]
    public void ParserReadsAbsoluteAndAsteriskForms()
    {
        var head = new RequestHead();
        Parse("GET http://example.com/x/y?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", head);
        Assert.That(head.Path, Is.EqualTo("/x/y"));
        Assert.That(head.QueryString, Is.EqualTo("q=1"));

        Parse("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", head);
        Assert.That(head.Path, Is.EqualTo("/"));

        Parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", head);
        Assert.That(head.Path, Is.EqualTo("*"));
    }

    [TestCase("GET /\r\n\r\n", RequestRejectionReason.MissingHttpVersion)]
    [TestCase("GET  / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine)]
    [TestCase(" GET / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine)]
    [TestCase("GET / http/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestLine)]
    [TestCase("GET / HTTP/1.1 \r\n\r\n", RequestRejectionReason.InvalidRequestLine)]
    [TestCase("G(T / HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidMethod)]
    [TestCase("GET a HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("GET * HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("GET /\x01 HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("GET /\xe9 HTTP/1.1\r\n\r\n", RequestRejectionReason.InvalidRequestTarget)]
    [TestCase("GET / HTTP/2.0\r\n\r\n", RequestRejectionReason.UnsupportedHttpVersion)]
    [TestCase("GET / HTTP/1.2\r\n\r\n", RequestRejectionReason.UnsupportedHttpVersion)]
    [TestCase("GET / HTTP/0.9\r\n\r\n", RequestRejectionReason.UnsupportedHttpVersion)]
    [TestCase("GET / HTTP/1.1\r\nHost : h\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\n Host: h\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\nHost h\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\n: h\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\u0000b\r\n\r\n", RequestRejectionReason.InvalidHeaderLine)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", RequestRejectionReason.BareCarriageReturn)]
    [TestCase("GET /%C0%AF HTTP/1.1\r\nHost: h\r\n\r\n", RequestRejectionReason.InvalidRequestTarget)]
    public void ParserRejectsMalformedHeads(string text, RequestRejectionReason reason)
        => Assert.That(Reject(text), Is.EqualTo(reason));

    [Test]
    public void ParserRejectsARequestLineOverTheLimitEvenBeforeItsEnd()
    {
        var limits = new ServerLimits { MaxRequestLineLength = 100 };
        var exact = "GET /" + new string('a', 100 - 14) + " HTTP/1.1";
        Assert.That(exact.Length, Is.EqualTo(100));
        Assert.That(Parse(exact + "\r\nHost: h\r\n\r\n", new RequestHead(), limits), Is.GreaterThan(0));
        Assert.That(Reject("GET /a" + exact[5..] + "\r\nHost: h\r\n\r\n", limits), Is.EqualTo(RequestRejectionReason.RequestLineTooLong));
        Assert.That(Reject("GET /" + new string('a', 200), limits), Is.EqualTo(RequestRejectionReason.RequestLineTooLong));
        Assert.That(new BadRequestException(RequestRejectionReason.RequestLineTooLong).StatusCode, Is.EqualTo(414));
    }

    [Test]
    public void ParserRejectsAHeaderSectionOverTheLimitEvenBeforeItsEnd()
    {
        var limits = new ServerLimits { MaxRequestHeadersTotalSize = 256 };
        var big = "X: " + new string('a', 300) + "\r\n";
        Assert.That(Reject("GET / HTTP/1.1\r\n" + big + "\r\n", limits), Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
        Assert.That(Reject("GET / HTTP/1.1\r\n" + big, limits), Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
        Assert.That(Reject("GET / HTTP/1.1\r\nX: " + new string('a', 300), limits), Is.EqualTo(RequestRejectionReason.HeadersTooLarge));
        Assert.That(new BadRequestException(RequestRejectionReason.HeadersTooLarge).StatusCode, Is.EqualTo(431));
    }

    [Test]
    public void ParserRejectsMoreHeadersThanTheLimit()
    {
        var limits = new ServerLimits { MaxRequestHeaderCount = 3 };
        Assert.That(Parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", new RequestHead(), limits), Is.GreaterThan(0));
        Assert.That(Reject("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), Is.EqualTo(RequestRejectionReason.TooManyHeaders));
        Assert.That(new BadRequestException(RequestRejectionReason.TooManyHeaders).StatusCode, Is.EqualTo(431));
    }

    [Test]
    public void ParserReusesTheHeadForTheNextRequest()
    {
        var head = new RequestHead();
        Parse("POST /one HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", head);
        Parse("GET /two?q HTTP/1.0\r\n\r\n", head);
        Assert.That(head.Method, Is.EqualTo("GET"));
        Assert.That(head.Path, Is.EqualTo("/two"));
        Assert.That(head.QueryString, Is.EqualTo("q"));
        Assert.That(head.Headers.Count, Is.Zero);
        Assert.That(head.Host, Is.Empty);
    }
}
