using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

public class ProxyFailureTests
{
    private static string[] ProxyErrors(string upstreamUrl)
        => [.. TestLogging.Memory.Logs.Where(l => l.Contains("Rocket.Errors.Proxy", StringComparison.Ordinal) && l.Contains(upstreamUrl, StringComparison.Ordinal) && l.StartsWith("ERROR", StringComparison.Ordinal))];

    /// <summary>The response ends in a close or reset, never a complete-looking body, and not merely the client's read timeout.</summary>
    private static void AssertAborted(RawClient client)
    {
        var e = Assert.Throws<IOException>(() => client.ReadResponse());
        Assert.That(e!.InnerException, Is.Not.InstanceOf<System.Net.Sockets.SocketException>().Or.Property("SocketErrorCode").Not.EqualTo(System.Net.Sockets.SocketError.TimedOut));
    }

    [Test]
    public void RefusedUpstreamAnswers502AndIsLoggedOnceByName()
    {
        var refused = ProxyServer.RefusedUrl();
        using var proxy = ProxyServer.Start(refused);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 502 Bad Gateway"));
        Assert.That(ProxyErrors(refused), Has.Length.EqualTo(1));

        // The client connection survives a 502.
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(502));
    }

    [Test]
    public void UpstreamNotAcceptingPastConnectTimeoutAnswers504()
    {
        // A listener whose accept queue is full drops further SYNs (Linux): a connect to it neither succeeds nor fails.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(0);
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndPoint!).Port}";
        var fillers = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var filler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(listener.LocalEndPoint!);
            }

            using var proxy = ProxyServer.Start(url, ("connect_timeout", "0.5"));
            using var client = proxy.Connect();
            var started = System.Diagnostics.Stopwatch.StartNew();
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 504 Gateway Timeout"));
            Assert.That(started.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.4)).And.LessThan(TimeSpan.FromSeconds(20)));
            Assert.That(ProxyErrors(url).Single(), Does.Contain("connect_timeout"));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Test]
    public void UpstreamSilentPastUpstreamTimeoutAnswers504()
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.WaitForCloseAsync(s));
        using var proxy = ProxyServer.Start(upstream.Url, ("upstream_timeout", "0.5"));
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 504 Gateway Timeout"));
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the timed-out upstream request was cancelled");
        Assert.That(ProxyErrors(upstream.Url), Has.Length.EqualTo(1));
    }

    [Test]
    public void UpstreamClosingBeforeItsHeadAnswers502()
    {
        using var upstream = new RawUpstream((s, _) =>
        {
            s.Dispose();
            return Task.CompletedTask;
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 502 Bad Gateway"));
    }

    [Test]
    public void UpstreamDyingMidBodyAbortsTheClientConnection()
    {
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + new string('a', 40000));
            s.Close();
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        AssertAborted(client);
        Assert.That(ProxyErrors(upstream.Url), Has.Length.EqualTo(1));
    }

    [Test]
    public void UpstreamDyingMidChunkedBodyNeverSendsTheLastChunk()
    {
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            await Task.Delay(50);
            await RawUpstream.SendAsync(s, "5\r\nwor");
            s.Close();
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        AssertAborted(client);
    }

    [Test]
    public void ClientGoingAwayCancelsTheUpstreamRequest()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new LambdaWorker(async c =>
        {
            c.RequestAborted.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), c.RequestAborted).ContinueWith(_ => { });
        });
        using var upstream = new TestServer(slow);
        using var proxy = ProxyServer.Start(upstream.Url());
        var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(started.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "upstream got the request");
        client.Dispose();
        Assert.That(cancelled.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "upstream saw its request cancelled");
    }

    [Test]
    public void ClientGoingAwayDuringASlowBodyClosesTheUpstreamConnection()
    {
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstart");
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
        client.Dispose();
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the proxy closed its upstream connection");
    }

    [Test]
    public void UpstreamPausingMidBodyPastUpstreamTimeoutAbortsTheClientConnection()
    {
        using var upstream = new RawUpstream(async (s, _) =>
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('b', 100)));
        using var proxy = ProxyServer.Start(upstream.Url, ("upstream_timeout", "0.5"));
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        AssertAborted(client);
    }
}
