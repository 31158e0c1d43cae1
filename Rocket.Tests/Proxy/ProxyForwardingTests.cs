using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

public class ProxyForwardingTests
{
    [Test]
    public void ProxyForwardsMethodPathAndQueryAndReturnsTheUpstreamResponse()
    {
        using var upstream = new TestServer(Apps.Target());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET /a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: example.com\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("GET /a b/c x=1&y=%2F"));

        // Keep-alive on the client side: a second request on the same connection.
        client.Send("GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /second "));
    }

    [Test]
    public void ProxyForwardsTheRawPathWithoutDecodingOrRewritingIt()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET /a%2Fb/%7Euser/x%20y?q=%20 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Lines()[0], Is.EqualTo("GET /a%2Fb/%7Euser/x%20y?q=%20"));
    }

    [Test]
    public void HopByHopRequestHeadersAndThoseNamedInConnectionAreRemoved()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: s\r\n"
                    + "TE: trailers\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\nX-Other: ok\r\n\r\n");
        var lines = client.ReadResponse().Lines();
        var names = lines.Skip(1).Select(l => l[..l.IndexOf(':')].ToLowerInvariant()).ToArray();
        Assert.That(names, Does.Contain("x-other"));
        Assert.That(names, Has.None.AnyOf("x-secret", "keep-alive", "te", "proxy-authorization", "proxy-connection", "trailer", "upgrade", "connection"));
    }

    [Test]
    public void HopByHopResponseHeadersAndThoseNamedInConnectionAreRemoved()
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s,
            "HTTP/1.1 200 OK\r\nConnection: X-Drop\r\nX-Drop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\n"
            + "X-Keep: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok"));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("ok"));
        Assert.That(response.Header("X-Keep"), Is.EqualTo("1"));
        Assert.That(response.HeaderCount("Set-Cookie"), Is.EqualTo(2));
        Assert.That(response.Header("X-Drop"), Is.Null);
        Assert.That(response.Header("Keep-Alive"), Is.Null);
        Assert.That(response.Header("Proxy-Authenticate"), Is.Null);
        Assert.That(response.Header("Connection"), Is.Null);
    }

    [Test]
    public void XForwardedHeadersAreAddedAndForIsAppended()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: example.com:8080\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n\r\n");
        var lines = client.ReadResponse().Lines();
        Assert.That(lines, Does.Contain("X-Forwarded-For: 10.0.0.1, 127.0.0.1"));
        Assert.That(lines, Does.Contain("X-Forwarded-Proto: http"));
        Assert.That(lines, Does.Contain("X-Forwarded-Host: example.com:8080"));
        Assert.That(lines.Count(l => l.StartsWith("X-Forwarded-Proto", StringComparison.OrdinalIgnoreCase)), Is.EqualTo(1));
    }

    [Test]
    public void XForwardedForNamesEachClientsOwnAddressWhenClientsAlternateOnOnePooledUpstreamConnection()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Binding a client to 127.0.0.2 needs Linux's whole 127/8 loopback.");
        }

        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());

        // One request at a time: each goes out on the one pooled upstream connection, which keeps the last client's address text.
        foreach (var from in new[] { "127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.1", "127.0.0.2" })
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0));
            socket.Connect(proxy.EndPoint);
            socket.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            using var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: false) { ReadTimeout = 10_000 };
            using var reader = new StreamReader(stream, Encoding.Latin1);
            Assert.That(reader.ReadToEnd(), Does.Contain("X-Forwarded-For: " + from + "\n"), "the request from " + from);
        }
    }

    [Test]
    public void ForwardedAndViaAreAddedWhenEnabled()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url(), ("forwarded", "true"), ("via", "edge"), ("x_forwarded", "false"));
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: example.com:8080\r\nForwarded: for=10.0.0.1\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n");
        var response = client.ReadResponse();
        var lines = response.Lines();
        Assert.That(lines, Does.Contain("Forwarded: for=10.0.0.1, for=127.0.0.1;proto=http;host=\"example.com:8080\""));
        Assert.That(lines, Does.Contain("Via: 1.1 edge"));
        Assert.That(lines, Does.Contain("X-Forwarded-For: 10.0.0.1"), "x_forwarded=false leaves the field alone");
        Assert.That(response.Header("Via"), Is.EqualTo("1.1 edge"));
    }

    [Test]
    public void HostIsTheUpstreamsByDefaultAndTheClientsWithPreserveHost()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using (var proxy = ProxyServer.Start(upstream.Url()))
        using (var client = proxy.Connect())
        {
            client.Send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
            Assert.That(client.ReadResponse().Lines(), Does.Contain($"Host: 127.0.0.1:{upstream.Port}"));
        }

        using (var proxy = ProxyServer.Start(upstream.Url(), ("preserve_host", true)))
        using (var client = proxy.Connect())
        {
            client.Send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
            Assert.That(client.ReadResponse().Lines(), Does.Contain("Host: example.com"));
        }
    }

    [Test]
    public void PathBaseIsStrippedAndTheUpstreamPathPrefixIsAdded()
    {
        using var upstream = new TestServer(Apps.Target());
        using var proxy = ProxyServer.Start(upstream.Url() + "/app/", ("path_base", "/api"));
        using var client = proxy.Connect();
        client.Send("GET /api/v1/items?id=3 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /app/v1/items id=3"));
        client.Send("GET /api HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /app/ "));
        client.Send("GET /apix HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 404 Not Found"));
    }

    [Test]
    public void HeadReturnsTheUpstreamsHeadersWithoutABody()
    {
        using var upstream = new TestServer(Apps.Hello());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse(headRequest: true);
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Content-Length"), Is.EqualTo("13"));
        Assert.That(response.Header("Content-Type"), Is.EqualTo("text/plain"));

        // No body bytes followed: the next response starts right away.
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void UpgradeRequestsAreTunnelledBothWaysAfterThe101()
    {
        var echo = new LambdaWorker(c => Apps.EchoUpgradeAsync(c, c.Request.Headers.GetCombined("Upgrade") ?? "none"));
        using var upstream = new TestServer(echo);
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
        var headers = new List<string>();
        string? line;
        while (!string.IsNullOrEmpty(line = client.ReadLine()))
        {
            headers.Add(line);
        }

        Assert.That(headers, Does.Contain("Upgrade: websocket"));
        Assert.That(headers, Does.Contain("Connection: Upgrade"));
        client.Send("ping");
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(4)), Is.EqualTo("ping"));
        client.Send("second message");
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(14)), Is.EqualTo("second message"));
    }
}
