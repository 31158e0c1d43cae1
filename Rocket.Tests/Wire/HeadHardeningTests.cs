using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Heads that arrive slowly, end early or carry a bad Host: exact bytes in, exact status lines out.</summary>
public class HeadHardeningTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public void StartServer() => _server = new TestServer(new LambdaWorker(c =>
    {
        c.Response.Write(Encoding.UTF8.GetBytes($"{c.Request.Method} {c.Request.Target} host={c.Request.Host} headers={c.Request.Headers.Count}"));
        return ValueTask.CompletedTask;
    }));

    [OneTimeTearDown]
    public void StopServer() => _server.Dispose();

    /// <summary>A client whose read timeout (3 s) is far below the header timeout (30 s): an answer within it is an immediate one.</summary>
    private RawClient Connect() => new(_server.EndPoint, timeoutMs: 3_000);

    private void AssertAnsweredAtOnce(string partial, string statusLine)
    {
        using var client = Connect();
        client.Send(partial);
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo(statusLine));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerAnswersAHeadSentOneBytePerPacket()
    {
        var fields = string.Concat(Enumerable.Range(0, 60).Select(i => $"X-Field-{i}: {new string((char)('a' + (i % 26)), 100)}\r\n"));
        var bytes = Encoding.Latin1.GetBytes($"GET /slow HTTP/1.1\r\nHost: h\r\n{fields}\r\n");
        using var client = _server.Connect();
        foreach (var b in bytes)
        {
            client.Send([b]);
        }

        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("GET /slow host=h headers=61"));
    }

    [TestCase("GET /hello\r\n")]
    [TestCase("GET /hello\n")]
    public void ServerAnswers400AtOnceToAnHttp09RequestLine(string line)
        => AssertAnsweredAtOnce(line, "HTTP/1.1 400 Bad Request");

    [TestCase("GET / HTTP/1.1\rHost: x\r\r")]
    [TestCase("GET / HTTP/1.1\r\nHost: x\rX-A: b\r")]
    [TestCase("GET / HTTP/1.1\r\nHost: x\r\n\r")]
    public void ServerAnswers400AtOnceToABareCarriageReturn(string partial)
    {
        if (partial.EndsWith("\n\r", StringComparison.Ordinal))
        {
            // A CR as the last byte may still be the start of CRLF: the server waits for the next byte, which is no LF.
            partial += "X";
        }

        AssertAnsweredAtOnce(partial, "HTTP/1.1 400 Bad Request");
    }

    [TestCase("a b")]
    [TestCase("user:pw@evil.example")]
    [TestCase("\"><script>")]
    [TestCase("example.com/path")]
    [TestCase("example.com:80:80")]
    [TestCase("example.com:99999")]
    [TestCase("example.com:8o")]
    [TestCase("[::1")]
    [TestCase("ex\\ample.com")]
    [TestCase("%zz.example")]
    [TestCase("caf\xe9.example")]
    public void ServerAnswers400ToAnInvalidHost(string host)
        => Wire.AssertRejected(_server, $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", "HTTP/1.1 400 Bad Request");

    [TestCase("example.com", "example.com")]
    [TestCase("example.com:8080", "example.com:8080")]
    [TestCase("127.0.0.1:1", "127.0.0.1:1")]
    [TestCase("[::1]:8080", "[::1]:8080")]
    [TestCase("xn--caf-dma.example", "xn--caf-dma.example")]
    [TestCase("", "")]
    public void ServerAcceptsAValidHost(string host, string seen)
    {
        var response = Wire.Exchange(_server, $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo($"GET / host={seen} headers=1"));
    }

    [Test]
    public void AbsoluteFormTargetsAuthorityIsTheHostAndTheHostFieldIsIgnored()
    {
        // RFC 9112 §3.2.2: the target's authority wins over Host.
        var response = Wire.Exchange(_server, "GET http://target.example:8080/a?b HTTP/1.1\r\nHost: other.example\r\n\r\n");
        Assert.That(response.BodyText, Is.EqualTo("GET http://target.example:8080/a?b host=target.example:8080 headers=1"));
    }

    [TestCase("GET http://user:pw@evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n")]
    [TestCase("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("GET http://a b/ HTTP/1.1\r\nHost: x\r\n\r\n")]
    public void ServerAnswers400ToAnAbsoluteFormTargetWithAnInvalidAuthority(string request)
        => Wire.AssertRejected(_server, request, "HTTP/1.1 400 Bad Request");

    [TestCase("CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("CONNECT example.com HTTP/1.1\r\nHost: x\r\n\r\n")]
    [TestCase("CONNECT http://example.com:22/ HTTP/1.1\r\nHost: x\r\n\r\n")]
    public void ServerAnswers400ToAConnectWithoutAnAuthorityFormTarget(string request)
        => Wire.AssertRejected(_server, request, "HTTP/1.1 400 Bad Request");

    [TestCase("\x01")]
    [TestCase("\x1b")]
    [TestCase("\x7f")]
    [TestCase("\0")]
    public void ServerAnswers400ToAControlByteInAChunkExtension(string control)
    {
        using var echo = new TestServer(Apps.Echo());
        Wire.AssertRejected(echo, $"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=a{control}b\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 400 Bad Request");
    }

    [Test]
    public void ServerAcceptsAChunkExtensionWithATokenAndAQuotedString()
    {
        using var echo = new TestServer(Apps.Echo());
        var response = Wire.Exchange(echo, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d e\"\r\nhello\r\n0\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello"));
    }
}
