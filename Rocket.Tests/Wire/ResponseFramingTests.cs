using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>How responses are framed: Content-Length, chunked, close-delimited, HEAD, and the headers the server adds.</summary>
public class ResponseFramingTests
{
    private static readonly byte[] Big = Enumerable.Range(0, 40_000).Select(i => (byte)('a' + (i % 26))).ToArray();

    /// <summary>Writes <see cref="Big"/> in pieces with no declared length: more than the response buffer holds.</summary>
    private static LambdaWorker Unknown() => new(c =>
    {
        for (var i = 0; i < Big.Length; i += 10_000)
        {
            c.Response.Write(Big.AsSpan(i, 10_000));
        }

        return ValueTask.CompletedTask;
    });

    [Test]
    public void ServerAddsDateServerAndContentLengthToASmallResponse()
    {
        using var server = new TestServer(Apps.Hello());
        var response = Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Server"), Is.EqualTo("Rocket.Owin"));
        Assert.That(DateTimeOffset.TryParseExact(response.Header("Date"), "r", null, System.Globalization.DateTimeStyles.AssumeUniversal, out var date), Is.True, response.Header("Date"));
        Assert.That(date, Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("13"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/plain"));
        Assert.That(response.Header("Transfer-Encoding"), Is.Null);
        Assert.That(response.HeaderCount("Date") + response.HeaderCount("Server"), Is.EqualTo(2));
    }

    [Test]
    public void ServerSendsExactlyTheseBytesForHelloWorld()
    {
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("GET / HTTP/1.0\r\n\r\n");
        var text = Encoding.Latin1.GetString(client.ReadToEnd());
        Assert.That(text, Does.Match(@"^HTTP/1\.1 200 OK\r\nServer: Rocket\.Owin\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!$"));
    }

    [Test]
    public void ServerChunksAResponseOfUnknownLengthOnHttp11()
    {
        using var server = new TestServer(Unknown());
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.WasChunked, Is.True);
        Assert.That(response.Header("Content-Length"), Is.Null);
        Assert.That(response.Body, Is.EqualTo(Big));

        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Body, Is.EqualTo(Big), "the chunked response ended cleanly and the connection stayed usable");
    }

    [Test]
    public void ServerChunksAFlushedResponseOnHttp11()
    {
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            c.Response.Write("part one "u8);
            await c.Response.FlushAsync();
            await c.Response.WriteAsync("part two"u8.ToArray());
        }));
        var response = Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.WasChunked, Is.True);
        Assert.That(response.BodyText, Is.EqualTo("part one part two"));
    }

    [Test]
    public void ServerCloseDelimitsAResponseOfUnknownLengthOnHttp10()
    {
        using var server = new TestServer(Unknown());
        using var client = server.Connect();
        client.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Header("Transfer-Encoding"), Is.Null);
        Assert.That(response.Header("Content-Length"), Is.Null);
        Assert.That(response.Header("Connection"), Is.Null);
        Assert.That(response.Body, Is.EqualTo(Big), "read to the end of the stream");
    }

    [Test]
    public void ServerUsesADeclaredContentLengthInsteadOfChunking()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = Big.Length;
            c.Response.Write(Big.AsSpan(0, 20_000));
            c.Response.Flush();
            c.Response.Write(Big.AsSpan(20_000));
            return ValueTask.CompletedTask;
        }));
        var response = Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.WasChunked, Is.False);
        Assert.That(response.Header("Content-Length"), Is.EqualTo("40000"));
        Assert.That(response.Body, Is.EqualTo(Big));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void HeadGetsTheHeadersOfGetWithoutTheBody(bool large)
    {
        using var server = new TestServer(large ? Unknown() : Apps.Hello());
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var get = client.ReadResponse();
        client.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        var head = client.ReadResponse(headRequest: true);
        Assert.That(head.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(head.Header("Content-Length"), Is.EqualTo(get.Header("Content-Length")));
        Assert.That(head.Header("Transfer-Encoding"), Is.EqualTo(get.Header("Transfer-Encoding")));
        Assert.That(head.Header("Content-Type"), Is.EqualTo(get.Header("Content-Type")));

        // No body bytes followed the HEAD response: the next thing on the wire is the next status line.
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
    }

    [Test]
    public void HeadWithADeclaredLengthKeepsItWithoutABody()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 1234;
            if (c.Request.Method != "HEAD")
            {
                c.Response.Write(new byte[1234]);
            }

            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse(headRequest: true).Header("Content-Length"), Is.EqualTo("1234"));
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Body, Has.Length.EqualTo(1234));
    }

    [TestCase(204)]
    [TestCase(304)]
    public void NoBodyStatusesCarryNoFraming(int status)
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.StatusCode = status;
            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Header("Content-Length"), Is.Null);
        Assert.That(response.Header("Transfer-Encoding"), Is.Null);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadLine(), Does.StartWith($"HTTP/1.1 {status} "));
    }

    [Test]
    public void HandlerHeadersAndStatusReachTheWire()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.StatusCode = 418;
            c.Response.ReasonPhrase = "I'm a teapot";
            c.Response.Headers.Add("X-Multi", "1");
            c.Response.Headers.Add("X-Multi", "2");
            c.Response.Headers.Set("Server", "Custom");
            c.Response.Write("tea"u8);
            return ValueTask.CompletedTask;
        }));
        var response = Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 418 I'm a teapot"));
        Assert.That(response.Headers.Where(h => h.Key == "X-Multi").Select(h => h.Value), Is.EqualTo(new[] { "1", "2" }));
        Assert.That(response.HeaderCount("Server"), Is.EqualTo(1));
        Assert.That(response.Header("Server"), Is.EqualTo("Custom"));
        Assert.That(response.BodyText, Is.EqualTo("tea"));
    }

    [Test]
    public void OnStartingCallbacksRunLastRegisteredFirstBeforeTheHeadersAreSent()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.OnStarting(s => ((Response)s!).Headers.Set("X-Order", ((Response)s!).Headers["X-Order"] + "first"), c.Response);
            c.Response.OnStarting(s => ((Response)s!).Headers.Set("X-Order", "second,"), c.Response);
            c.Response.Write("x"u8);
            return ValueTask.CompletedTask;
        }));
        Assert.That(Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").Header("X-Order"), Is.EqualTo("second,first"));
    }
}
