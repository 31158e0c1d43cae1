using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Every bad-input line of the engine contract: exact bytes in, exact status line out, then close.</summary>
public class BadRequestTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public void StartServer() => _server = new TestServer(Apps.Echo());

    [OneTimeTearDown]
    public void StopServer() => _server.Dispose();

    [TestCase("GET /\r\n\r\n")]
    [TestCase("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n")]
    [TestCase("GET  / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("GET / HTTX/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("GET / HTTP/1.1\rHost: x\r\n\r\n")]
    [TestCase("G@T / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("GET nothing HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n")]
    public void ServerRejectsAMalformedRequestLine(string request)
        => Wire.AssertRejected(_server, request, "HTTP/1.1 400 Bad Request");

    [TestCase("HTTP/2.0")]
    [TestCase("HTTP/1.2")]
    [TestCase("HTTP/3.0")]
    public void ServerAnswers505ToAnUnsupportedVersion(string version)
        => Wire.AssertRejected(_server, $"GET / {version}\r\nHost: x\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported");

    [Test]
    public void ServerAnswers414ToARequestLineOverTheLimit()
    {
        var target = "/" + Wire.Repeat('a', new ServerLimits().MaxRequestLineLength);
        Wire.AssertRejected(_server, $"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 414 URI Too Long");
    }

    [Test]
    public void ServerAnswers414BeforeAnOverlongRequestLineEnds()
        => Wire.AssertRejected(_server, "GET /" + Wire.Repeat('a', 9000), "HTTP/1.1 414 URI Too Long");

    [Test]
    public void ServerAcceptsARequestLineJustWithinTheLimit()
    {
        var target = "/" + Wire.Repeat('a', new ServerLimits().MaxRequestLineLength - "GET  HTTP/1.1".Length - 1);
        var response = Wire.Exchange(_server, $"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
    }

    [Test]
    public void ServerAnswers431ToAHeaderSectionOverTheLimit()
    {
        var big = string.Concat(Enumerable.Range(0, 5).Select(i => $"X-Big-{i}: {Wire.Repeat('v', 7000)}\r\n"));
        Wire.AssertRejected(_server, $"GET / HTTP/1.1\r\nHost: x\r\n{big}\r\n", "HTTP/1.1 431 Request Header Fields Too Large");
    }

    [Test]
    public void ServerAnswers431ToTooManyHeaders()
    {
        var many = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-H{i}: {i}\r\n"));
        Wire.AssertRejected(_server, $"GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n", "HTTP/1.1 431 Request Header Fields Too Large");
    }

    [Test]
    public void ServerAcceptsExactlyTheMaximumHeaderCount()
    {
        var many = string.Concat(Enumerable.Range(0, 99).Select(i => $"X-H{i}: {i}\r\n"));
        Assert.That(Wire.Exchange(_server, $"GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
    }

    [Test]
    public void ServerRejectsAnHttp11RequestWithoutHost()
        => Wire.AssertRejected(_server, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [Test]
    public void ServerRejectsAnHttp11RequestWithTwoHosts()
        => Wire.AssertRejected(_server, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [Test]
    public void ServerServesAnHttp10RequestWithoutHost()
    {
        var response = Wire.Exchange(_server, "GET / HTTP/1.0\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
    }

    [Test]
    public void ServerRejectsContentLengthWithTransferEncoding()
        => Wire.AssertRejected(_server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [Test]
    public void ServerRejectsTransferEncodingWithContentLength()
        => Wire.AssertRejected(_server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 400 Bad Request");

    [TestCase("Content-Length: 5\r\nContent-Length: 6")]
    [TestCase("Content-Length: 5, 6")]
    [TestCase("Content-Length: 5\r\nContent-Length: 5, 4")]
    public void ServerRejectsDifferingDuplicateContentLength(string fields)
        => Wire.AssertRejected(_server, $"POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\n\r\nhello", "HTTP/1.1 400 Bad Request");

    [TestCase("Content-Length: 5\r\nContent-Length: 5")]
    [TestCase("Content-Length: 5, 5")]
    public void ServerAcceptsIdenticalDuplicateContentLength(string fields)
    {
        var response = Wire.Exchange(_server, $"POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\n\r\nhello");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello"));
    }

    [TestCase("abc")]
    [TestCase("-1")]
    [TestCase("+5")]
    [TestCase("5.0")]
    [TestCase("0x5")]
    [TestCase("")]
    [TestCase("1 2")]
    [TestCase("99999999999999999999")]
    public void ServerRejectsAnInvalidContentLength(string value)
        => Wire.AssertRejected(_server, $"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [TestCase("Host: x\r\nX: a\r\n folded")]
    [TestCase("Host: x\r\nX: a\r\n\tfolded")]
    [TestCase("Host : x")]
    [TestCase("Host\t: x")]
    [TestCase("Host: x\r\nNo-Colon")]
    [TestCase("Host: x\r\nBad[Name]: v")]
    [TestCase("Host: x\r\nX: a\u0001b")]
    public void ServerRejectsAMalformedHeaderLine(string fields)
        => Wire.AssertRejected(_server, $"GET / HTTP/1.1\r\n{fields}\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [TestCase("gzip")]
    [TestCase("gzip, chunked")]
    [TestCase("chunked, gzip")]
    [TestCase("identity")]
    public void ServerAnswers501ToATransferEncodingOtherThanChunked(string coding)
        => Wire.AssertRejected(_server, $"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n", "HTTP/1.1 501 Not Implemented");

    [Test]
    public void ServerRejectsTransferEncodingInAnHttp10Request()
    {
        using var client = _server.Connect();
        client.Send("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 501 Not Implemented"));
        Assert.That(response.Header("Connection"), Is.Null, "HTTP/1.0 closes by default");
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [TestCase("200-ok")]
    [TestCase("100-continue, foo")]
    public void ServerAnswers417ToAnExpectationOtherThan100Continue(string expectation)
        => Wire.AssertRejected(_server, $"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: {expectation}\r\n\r\n", "HTTP/1.1 417 Expectation Failed");

    [Test]
    public void ServerRejectsAnOverlongUtf8Path()
        => Wire.AssertRejected(_server, "GET /%C0%AE%C0%AE/etc HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [Test]
    public void ServerRejectsMalformedChunkedFramingWhileTheHandlerReads()
        => Wire.AssertRejected(_server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 Bad Request");

    [Test]
    public void ServerRejectsABodyCutShortByTheClient()
    {
        using var client = _server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerStillServesAfterRejectingRequests()
        => Assert.That(Wire.Exchange(_server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok").BodyText, Is.EqualTo("ok"));
}
