using System.Security.Cryptography;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

public class ProxyBodyTests
{
    private static LambdaWorker FramingEcho() => new(async c =>
    {
        var ms = new MemoryStream();
        await c.RequestBody.CopyToAsync(ms);
        c.Response.Headers.Set("X-Framing", c.Request.IsChunked ? "chunked" : $"length {c.Request.ContentLength}");
        c.Response.Write(ms.ToArray());
    });

    [Test]
    public void RequestBodyWithContentLengthIsForwardedWithItsLength()
    {
        using var upstream = new TestServer(FramingEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello world"));
        Assert.That(response.Header("X-Framing"), Is.EqualTo("length 11"));
    }

    [Test]
    public void ChunkedRequestBodyStaysChunkedToTheUpstream()
    {
        using var upstream = new TestServer(FramingEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.BodyText, Is.EqualTo("hello world"));
        Assert.That(response.Header("X-Framing"), Is.EqualTo("chunked"));
    }

    [Test]
    public void LargeBodiesStreamBothWaysIntact()
    {
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var hashing = new LambdaWorker(async c =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[16384];
            int n;
            while ((n = await c.RequestBody.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
            }

            c.Response.Headers.Set("X-Sha", Convert.ToHexString(sha.GetHashAndReset()));
            c.Response.ContentLength = payload.Length;
            await c.Response.WriteAsync(payload);
        });
        using var upstream = new TestServer(hashing);
        using var proxy = ProxyServer.Start(upstream.Url(), ("buffer_size", 8192));
        using var client = proxy.Connect();
        client.Send($"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: {payload.Length}\r\n\r\n");
        client.Send(payload);
        var response = client.ReadResponse();
        Assert.That(response.Header("X-Sha"), Is.EqualTo(Convert.ToHexString(SHA256.HashData(payload))));
        Assert.That(response.Header("Content-Length"), Is.EqualTo(payload.Length.ToString()));
        Assert.That(response.Body, Is.EqualTo(payload));
    }

    [Test]
    public void UpstreamResponseWithoutLengthReachesTheClientChunked()
    {
        var streaming = new LambdaWorker(async c =>
        {
            for (var i = 0; i < 3; i++)
            {
                await c.Response.WriteAsync(Encoding.ASCII.GetBytes($"part{i};"));
                await c.Response.FlushAsync();
            }
        });
        using var upstream = new TestServer(streaming);
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.WasChunked, Is.True);
        Assert.That(response.BodyText, Is.EqualTo("part0;part1;part2;"));
    }

    [Test]
    public void FirstBytesOfASlowUpstreamReachTheClientBeforeTheLast()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst");
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await RawUpstream.SendAsync(s, "-last");
        });
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        try
        {
            Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
            while (!string.IsNullOrEmpty(client.ReadLine()))
            {
            }

            // Read before the upstream is allowed to finish: only possible if the proxy flushed early.
            Assert.That(Encoding.ASCII.GetString(client.ReadExactly(5)), Is.EqualTo("first"));
        }
        finally
        {
            release.TrySetResult();
        }

        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(5)), Is.EqualTo("-last"));
    }

    [Test]
    public void ExpectContinueIsAnsweredOnlyWhenTheUpstreamAsksForTheBody()
    {
        using var upstream = new TestServer(FramingEcho());
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 100 Continue"));
        Assert.That(client.ReadLine(), Is.EqualTo(string.Empty));
        client.Send("body");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("body"));
    }

    [Test]
    public void AnUpstreamThatNeverAnswersExpectContinueGetsTheBodyAfterTheOneSecondWait()
    {
        using var upstream = ProxyServer.NeverContinuesUpstream();
        using var proxy = ProxyServer.Start(upstream.Url);
        using var client = proxy.Connect();
        var started = System.Diagnostics.Stopwatch.StartNew();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");

        // The proxy asks the client for the body (the core's 100) once it stops waiting for the upstream's.
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 100 Continue"));
        Assert.That(client.ReadLine(), Is.EqualTo(string.Empty));
        Assert.That(started.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)), "the proxy waited for the upstream's 100 first");
        client.Send("body");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("got body"));
    }

    [Test]
    public void ExpectContinueRefusedByTheUpstreamReachesTheClientWithout100()
    {
        var refuses = new LambdaWorker(c =>
        {
            c.Response.StatusCode = 413;
            return ValueTask.CompletedTask;
        });
        using var upstream = new TestServer(refuses);
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 413 Content Too Large"));
    }

    [Test]
    public void AnUpstreamAnsweringWithoutReadingTheBodyReachesTheClientAndTheConnectionStaysUsable()
    {
        var refuses = new LambdaWorker(c =>
        {
            c.Response.StatusCode = 401;
            return ValueTask.CompletedTask;
        });
        using var upstream = new TestServer(refuses);
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = proxy.Connect();

        // The body arrives in two parts, the second after the upstream has answered (like nginx's default request
        // buffering, the answer is relayed once the body is in); the next request then follows on the same connection.
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + new string('a', 100));
        Thread.Sleep(200);
        client.Send(new string('b', 3996) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 401 Unauthorized"));
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 401 Unauthorized"));
    }
}
