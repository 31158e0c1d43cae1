using System.Text;
using RocketOwin.Methods.Proxy.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

/// <summary>What the proxy does with odd requests and broken upstreams: a clean status every time, and the upstream never sees what it must not.</summary>
public class ProxyHardeningTests
{
    private static string[] ErrorLines(string upstreamUrl)
        => [.. TestLogging.Memory.Logs.Where(l => l.Contains("Rocket.Errors.Proxy", StringComparison.Ordinal) && l.Contains(upstreamUrl, StringComparison.Ordinal) && l.StartsWith("ERROR", StringComparison.Ordinal))];

    private static RawResponse Exchange(TestServer proxy, string request)
    {
        using var client = new RawClient(proxy.EndPoint, timeoutMs: 5_000);
        client.Send(request);
        return client.ReadResponse();
    }

    [Test]
    public void AnUploadSlowerThanUpstreamTimeoutIsNotCutByIt()
    {
        using var upstream = new TestServer(Apps.Echo());
        using var proxy = ProxyServer.Start(upstream.Url(), ("upstream_timeout", "0.5"));
        using var client = proxy.Connect();
        const int pieces = 25;
        client.Send($"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {pieces * 100}\r\n\r\n");
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < pieces; i++)
        {
            pace.WaitForNextTickAsync().AsTask().Wait();
            client.Send(new string((char)('a' + (i % 26)), 100));
        }

        // 2.5 s of steady upload against a 0.5 s upstream_timeout: the upstream was never the one keeping anyone waiting.
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Body, Has.Length.EqualTo(pieces * 100));
    }

    [TestCase("head")]
    [TestCase("get")]
    [TestCase("Post")]
    public void AMethodThatDiffersFromAStandardOneOnlyInCaseIsForwardedAsSent(string method)
    {
        // RFC 9110 §9.1: methods are case-sensitive; `head` is an unknown method, not HEAD, and its response has a body.
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        var response = Exchange(proxy, $"{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Lines()[0], Is.EqualTo(method + " /"));
    }

    [Test]
    public void AnUnknownMethodIsForwardedExactlyAsReceived()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        var response = Exchange(proxy, "purge /x HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Lines()[0], Is.EqualTo("purge /x"));
    }

    [Test]
    public void ConnectIsAnswered501AndAConnectWithoutHostAndPort400()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        Assert.That(Exchange(proxy, "CONNECT example.com:22 HTTP/1.1\r\nHost: example.com:22\r\n\r\n").StatusLine, Is.EqualTo("HTTP/1.1 501 Not Implemented"));
        Assert.That(Exchange(proxy, "CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n").StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
    }

    [Test]
    public void ANonAsciiHeaderByteIsForwardedAsItCame()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        var response = Exchange(proxy, "GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Lines(), Does.Contain("X-Name: café"));
    }

    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok")]
    [TestCase("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n")]
    public void AMalformedOrUnsolicitedUpstreamResponseIsAnswered502(string upstreamResponse)
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, upstreamResponse));
        using var proxy = ProxyServer.Start(upstream.Url);
        var response = Exchange(proxy, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 502 Bad Gateway"));
        Assert.That(response.BodyText, Does.Contain("malformed"));
    }

    [TestCase("")]
    [TestCase("/api")]
    public void OptionsAsteriskIsForwardedAsAnAsterisk(string pathBase)
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n"));
        using var proxy = pathBase.Length == 0 ? ProxyServer.Start(upstream.Url) : ProxyServer.Start(upstream.Url + "/v2", ("path_base", pathBase));
        var response = Exchange(proxy, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Allow"), Is.EqualTo("GET, HEAD"));
        Assert.That(upstream.FirstRequest.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(upstream.FirstRequest.Task.Result, Does.StartWith("OPTIONS * HTTP/1.1\r\n"));
    }

    [Test]
    public void XForwardedHostIsTheAuthorityOfAnAbsoluteFormTarget()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        var response = Exchange(proxy, "GET http://target.example:8080/a HTTP/1.1\r\nHost: other.example\r\n\r\n");
        Assert.That(response.Lines(), Does.Contain("X-Forwarded-Host: target.example:8080"));
        Assert.That(response.Lines()[0], Is.EqualTo("GET /a"));
    }

    [TestCase("a b")]
    [TestCase("user:pw@evil.example")]
    [TestCase("\"><script>")]
    [TestCase("a,b")]
    [TestCase("a;b")]
    [TestCase("x\te")]
    public void PreserveHostNeverSendsTwoHostLinesAndRefusesAHostItCannotForward(string host)
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        using var proxy = ProxyServer.Start(upstream.Url, ("preserve_host", true));
        var response = Exchange(proxy, $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
        Assert.That(upstream.Connections, Is.Zero);
    }

    [TestCase("example.com")]
    [TestCase("example.com:8080")]
    [TestCase("[::1]:8080")]
    [TestCase("under_score.example")]
    public void PreserveHostForwardsAValidHostOnce(string host)
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        using var proxy = ProxyServer.Start(upstream.Url, ("preserve_host", true));
        Assert.That(Exchange(proxy, $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        var hostLines = upstream.FirstRequest.Task.Result.Split("\r\n").Where(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.That(hostLines, Is.EqualTo(new[] { "Host: " + host }));
    }

    [Test]
    public void HeadersWithUnderscoresAreDroppedUnlessAllowed()
    {
        using var upstream = new TestServer(ProxyServer.HeaderEcho());
        const string request = "GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 6.6.6.6\r\nContent_Length: 5\r\nX-Kept: 1\r\n\r\n";
        using (var proxy = ProxyServer.Start(upstream.Url()))
        {
            var lines = Exchange(proxy, request).Lines();
            Assert.That(lines, Has.None.Contains("_"));
            Assert.That(lines, Does.Contain("X-Kept: 1"));
        }

        using (var proxy = ProxyServer.Start(upstream.Url(), ("underscores_in_headers", true)))
        {
            var lines = Exchange(proxy, request).Lines();
            Assert.That(lines, Does.Contain("X_Forwarded_For: 6.6.6.6"));
            Assert.That(lines, Does.Contain("Content_Length: 5"));
        }
    }

    [Test]
    public void AnUpstreamOutageIsLoggedOncePerIntervalNotOncePerRequest()
    {
        var refused = ProxyServer.RefusedUrl();
        using var proxy = ProxyServer.Start(refused);
        using var client = proxy.Connect();
        for (var i = 0; i < 30; i++)
        {
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(502));
        }

        Assert.That(ErrorLines(refused), Has.Length.EqualTo(1));
    }

    [Test]
    public void FailureLogLinesAreOnePerIntervalAndCarryTheCountOfTheOthers()
    {
        var upstream = new Upstream(new Uri("http://127.0.0.1:1"));
        Assert.That(upstream.TryClaimLogLine(1_000, 10_000, out var unlogged), Is.True);
        Assert.That(unlogged, Is.Zero);
        Assert.That(upstream.TryClaimLogLine(1_001, 10_000, out _), Is.False);
        Assert.That(upstream.TryClaimLogLine(10_999, 10_000, out _), Is.False);
        Assert.That(upstream.TryClaimLogLine(11_000, 10_000, out unlogged), Is.True);
        Assert.That(unlogged, Is.EqualTo(2));
        Assert.That(upstream.TryClaimLogLine(30_000, 10_000, out unlogged), Is.True);
        Assert.That(unlogged, Is.Zero);
    }

    [Test]
    public void UnderscoresInHeadersIsReadAsABoolean()
    {
        Assert.That(RocketOwin.Methods.Proxy.ProxyOptions.From(new AppInfo { ["upstream"] = "http://h" }).UnderscoresInHeaders, Is.False);
        Assert.That(RocketOwin.Methods.Proxy.ProxyOptions.From(new AppInfo { ["upstream"] = "http://h", ["underscores_in_headers"] = "on" }).UnderscoresInHeaders, Is.True);
        var e = Assert.Throws<ArgumentException>(() => RocketOwin.Methods.Proxy.ProxyOptions.From(new AppInfo { ["upstream"] = "http://h", ["underscores_in_headers"] = "maybe" }))!;
        Assert.That(e.Message, Does.Contain("underscores_in_headers").And.Contain("maybe"));
    }
}
