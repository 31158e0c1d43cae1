using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

/// <summary>The proxy's own HTTP/1.1 client against upstreams that misbehave on purpose, over raw sockets.</summary>
public class ProxyUpstreamClientTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    private static RawResponse Exchange(RawClient client, string request)
    {
        client.Send(request);
        return client.ReadResponse();
    }

    /// <summary>Sends <paramref name="text"/> in pieces of <paramref name="size"/> bytes, each its own segment.</summary>
    private static async Task SendSplitAsync(Socket socket, string text, int size)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += size)
        {
            await socket.SendAsync(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)));
            await Task.Delay(2);
        }
    }

    [Test]
    public void AResponseHeadSplitIntoOneBytePiecesIsRelayedWhole()
    {
        using var upstream = new RawUpstream((s, _) => SendSplitAsync(s, "HTTP/1.1 200 OK\r\nX-Split: yes\r\nContent-Length: 5\r\n\r\nhello", 1));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var response = Exchange(client, Get);
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("X-Split"), Is.EqualTo("yes"));
        Assert.That(response.BodyText, Is.EqualTo("hello"));
    }

    [Test]
    public void RepeatedAndChangedResponseHeadsOnOnePooledConnectionAreEachRelayedAsSent()
    {
        // The connection remembers its last head: an identical one is not parsed or copied again, a changed one is.
        string[] answers =
        [
            "HTTP/1.1 200 OK\r\nX-Count: 1\r\nContent-Length: 1\r\n\r\na",
            "HTTP/1.1 200 OK\r\nX-Count: 1\r\nContent-Length: 1\r\n\r\nb",
            "HTTP/1.1 200 OK\r\nX-Count: 2\r\nContent-Length: 1\r\n\r\nc",
            "HTTP/1.1 404 Not Found\r\nX-Count: 2\r\nContent-Length: 1\r\n\r\nd",
            "HTTP/1.1 200 OK\r\nX-Count: 1\r\nContent-Length: 2\r\n\r\nee",
            "HTTP/1.1 200 OK\r\nX-Count: 1\r\nContent-Length: 2\r\n\r\nff",
        ];
        using var upstream = new RawUpstream(async (s, _) =>
        {
            for (var i = 0; i < answers.Length; i++)
            {
                if (i > 0)
                {
                    await RawUpstream.ReadHeadAsync(s);
                }

                await RawUpstream.SendAsync(s, answers[i]);
            }
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        (int Status, string Count, string Body)[] expected = [(200, "1", "a"), (200, "1", "b"), (200, "2", "c"), (404, "2", "d"), (200, "1", "ee"), (200, "1", "ff")];
        foreach (var (status, count, body) in expected)
        {
            var response = Exchange(client, Get);
            Assert.That((response.StatusCode, response.Header("X-Count"), response.BodyText), Is.EqualTo((status, count, body)));
            Assert.That(response.Header("Content-Length"), Is.EqualTo(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.That(upstream.Connections, Is.EqualTo(1));
    }

    [Test]
    public void AChunkedBodySplitAcrossChunkLinesAndWithTrailersArrivesIntact()
    {
        const string body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n";
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            await SendSplitAsync(s, body, 3);
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var response = Exchange(client, Get);
        Assert.That(response.BodyText, Is.EqualTo("Wikipedia in\r\n\r\nchunks."));
        Assert.That(response.WasChunked, Is.True);
    }

    [Test]
    public void ABodyLongerThanItsContentLengthIsCutAtTheLengthAndItsConnectionIsNotReused()
    {
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA BYTES");

            // Keeps answering on the same connection, as a desynchronised upstream would.
            while (await RawUpstream.ReadHeadAsync(s) is { Length: > 0 })
            {
                await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nsame");
            }
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        Assert.That(Exchange(client, Get).BodyText, Is.EqualTo("hello"));
        Assert.That(Exchange(client, Get).BodyText, Is.EqualTo("hello"));
        Assert.That(upstream.Connections, Is.EqualTo(2), "the connection that sent bytes past the response was closed, not reused");
    }

    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok")]
    [TestCase("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")]
    [TestCase("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok")]
    [TestCase("HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\nok")]
    [TestCase("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok")]
    [TestCase("HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    public void AMalformedResponseIsAnswered502AndItsConnectionClosed(string upstreamResponse)
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, upstreamResponse));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var response = Exchange(client, Get);
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 502 Bad Gateway"));
        Assert.That(response.BodyText, Does.Contain("malformed"));
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the proxy closed the connection that carried it");
        Assert.That(Exchange(client, Get).StatusCode, Is.EqualTo(502), "the next request went on a new connection");
        Assert.That(upstream.Connections, Is.EqualTo(2));
    }

    [Test]
    public void A100IsConsumedAndA103ForwardedWithItsLinkBeforeTheFinalResponse()
    {
        using var upstream = new RawUpstream((s, _) => SendSplitAsync(
            s,
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
            7));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var hints = Exchange(client, Get);
        Assert.That(hints.StatusLine, Is.EqualTo("HTTP/1.1 103 Early Hints"));
        Assert.That(hints.Headers, Is.EqualTo(new[] { new KeyValuePair<string, string>("Link", "</style.css>; rel=preload") }), "hop-by-hop fields dropped");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("final"));
    }

    [Test]
    public void AnHttp10ClientGetsOnlyTheFinalResponseWhenTheUpstreamSendsA103()
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(
            s,
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.0\r\n\r\n");
        var text = Encoding.Latin1.GetString(client.ReadToEnd());
        Assert.That(text, Does.StartWith("HTTP/1.1 200 OK\r\n"));
        Assert.That(text, Does.Not.Contain("103").And.Not.Contain("Link"));
        Assert.That(text, Does.EndWith("\r\n\r\nfinal"));
    }

    /// <summary>Each connection answers one request with keep-alive, then closes: the pooled connection is dead when reused.</summary>
    private static RawUpstream AnswersOnceThenCloses() => new(async (s, _) =>
    {
        await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        s.Shutdown(SocketShutdown.Both);
    });

    [Test]
    public void AGetOnAPooledConnectionTheUpstreamClosedIsRetriedOnANewOne()
    {
        using var upstream = AnswersOnceThenCloses();
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        Assert.That(Exchange(client, Get).StatusCode, Is.EqualTo(200));
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Exchange(client, Get).StatusCode, Is.EqualTo(200));
        Assert.That(upstream.Connections, Is.EqualTo(2));
    }

    [Test]
    public void APostOnAPooledConnectionTheUpstreamClosedIsNotRetried()
    {
        using var upstream = AnswersOnceThenCloses();
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        Assert.That(Exchange(client, Get).StatusCode, Is.EqualTo(200));
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Exchange(client, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi").StatusCode, Is.EqualTo(502));
        Assert.That(upstream.Connections, Is.EqualTo(1), "a request whose body may have reached the upstream is never sent twice");
    }

    [Test]
    public void ACloseDelimitedResponseIsRelayedToItsEnd()
    {
        var body = new string('z', 100_000);
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body);
            s.Shutdown(SocketShutdown.Send);
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var response = Exchange(client, Get);
        Assert.That(response.BodyText, Is.EqualTo(body));
        Assert.That(Exchange(client, Get).BodyText, Is.EqualTo(body), "the client connection stays usable; the upstream one was not");
        Assert.That(upstream.Connections, Is.EqualTo(2));
    }

    [Test]
    public void AnAnswerSentBeforeTheRequestBodyEndedIsRelayedOnceTheBodyIsIn()
    {
        // A well-behaved upstream that refuses early: answers 413 with Connection: close, then reads and discards the rest (lingering close).
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbig!");
            s.Shutdown(SocketShutdown.Send);
        });
        using var proxy = ProxyServer.Start(upstream.Url, ("buffer_size", 4096));
        using var client = proxy.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n");
        client.Send(new string('a', 100_000));
        client.Send(new string('b', 100_000));
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 413 Content Too Large"));
        Assert.That(response.BodyText, Is.EqualTo("big!"));
    }

    [Test]
    public void AnAnswerFromAnUpstreamThatClosedWithoutReadingTheBodyStillReachesTheClient()
    {
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            s.Shutdown(SocketShutdown.Send);
            await Task.Delay(100);
            s.Dispose();
        });
        using var proxy = ProxyServer.Start(upstream.Url, ("buffer_size", 4096));
        using var client = proxy.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n");
        var sender = Task.Run(() =>
        {
            try
            {
                for (var i = 0; i < 30; i++)
                {
                    client.Send(new string('a', 10_000));
                }
            }
            catch (IOException)
            {
            }
        });
        var response = client.ReadResponse();
        Assert.That(response.StatusCode, Is.AnyOf(401, 502), "an answer or a clean 502, never a hang or a 500");
        sender.Wait(TimeSpan.FromSeconds(10));
    }

    [Test]
    public void AnHttp10ResponseWithoutKeepAliveEndsItsConnection()
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        Assert.That(Exchange(client, Get).BodyText, Is.EqualTo("ok"));
        Assert.That(upstream.PeerClosed.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Exchange(client, Get).BodyText, Is.EqualTo("ok"));
        Assert.That(upstream.Connections, Is.EqualTo(2));
    }

    [Test]
    public void AnUpstreamNamedByHostNameIsResolvedAndReached()
    {
        using var upstream = new RawUpstream((s, _) => RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nname"));
        using var proxy = ProxyServer.Start(upstream.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        using var client = proxy.Connect();
        var response = Exchange(client, Get);
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("name"));
        Assert.That(upstream.FirstRequest.Task.Result, Does.Contain("\r\nHost: localhost:"));
    }
}
