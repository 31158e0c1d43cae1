using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Body size limits and the header timeout, on servers with small limits.</summary>
public class LimitTests
{
    [Test]
    public void ServerAnswers413ToADeclaredBodyOverTheLimit()
    {
        using var server = new TestServer(Apps.Echo(), limits: new ServerLimits { MaxRequestBodySize = 100 });
        Wire.AssertRejected(server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", "HTTP/1.1 413 Content Too Large");
        var ok = Wire.Exchange(server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + Wire.Repeat('a', 100));
        Assert.That(ok.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(ok.Body, Has.Length.EqualTo(100));
    }

    [Test]
    public void ServerAnswers413ToAChunkedBodyOverTheLimit()
    {
        using var server = new TestServer(Apps.Echo(), limits: new ServerLimits { MaxRequestBodySize = 100 });
        var chunk = "32\r\n" + Wire.Repeat('a', 50) + "\r\n";
        Wire.AssertRejected(server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "1\r\n", "HTTP/1.1 413 Content Too Large");
        var ok = Wire.Exchange(server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "0\r\n\r\n");
        Assert.That(ok.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(ok.Body, Has.Length.EqualTo(100));
    }

    [Test]
    public void ServerSendsTheAnswerThenClosesWhenAnUnreadChunkedBodyIsOverTheLimit()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { MaxRequestBodySize = 10 });
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n");
        var response = client.ReadResponse();

        // The handler answered before the body was read; what the drain found over the limit closes the connection.
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerAnswers408AndClosesWhenTheHeadersStopArriving()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1) });
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 408 Request Timeout"));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerAnswers408AndClosesWhenTheHeadersTrickleInTooSlowly()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1) });
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n");
        var deadline = DateTime.UtcNow.AddSeconds(10);

        // One header line every 100 ms: never idle long, but the head as a whole takes too long.
        for (var i = 0; DateTime.UtcNow < deadline && !client.Socket.Poll(100_000, SelectMode.SelectRead); i++)
        {
            try
            {
                client.Send($"X-Slow-{i}: {i}\r\n");
            }
            catch (IOException)
            {
                break;
            }
        }

        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 408 Request Timeout"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerClosesAConnectionThatSendsNothingWithinTheHeaderTimeout()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1) });
        using var client = server.Connect();
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerClosesAKeepAliveConnectionAfterTheIdleTimeout()
    {
        using var server = new TestServer(Apps.Hello(), timeout: 1);
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(Wire.ServerClosed(client), Is.True);
        Assert.That(Wire.WaitUntil(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True);
    }
}
