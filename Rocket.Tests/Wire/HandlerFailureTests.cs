using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>What the client sees when a handler fails, and what happens when the client goes away.</summary>
public class HandlerFailureTests
{
    [Test]
    public void ExceptionBeforeWritingBecomes500WithNoBody()
    {
        using var server = new TestServer(new LambdaWorker(_ => throw new InvalidOperationException("boom")));
        var response = Wire.AssertRejected(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 500 Internal Server Error");
        Assert.That(response.Body, Is.Empty);
    }

    [Test]
    public void ExceptionAfterBufferedWritesStillBecomes500()
    {
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            c.Response.Headers.Set("X-Lost", "yes");
            c.Response.Write("partial"u8);
            await Task.Yield();
            throw new InvalidOperationException("boom");
        }));
        var response = Wire.AssertRejected(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 500 Internal Server Error");
        Assert.That(response.Header("X-Lost"), Is.Null, "nothing of the failed response leaks into the 500");
    }

    [Test]
    public void BadRequestExceptionFromAHandlerBecomesItsStatus()
    {
        using var server = new TestServer(new LambdaWorker(_ => throw new BadRequestException(RequestRejectionReason.RequestBodyTooLarge, "app limit")));
        Wire.AssertRejected(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 413 Content Too Large");
    }

    [Test]
    public void ExceptionAfterFlushingAbortsAChunkedResponse()
    {
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            c.Response.Write("started"u8);
            await c.Response.FlushAsync();
            throw new InvalidOperationException("boom after flush");
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Wire.AssertAborted(client);
    }

    [Test]
    public void ExceptionAfterFlushingAbortsAContentLengthResponse()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 100;
            c.Response.Write(new byte[50]);
            c.Response.Flush();
            throw new InvalidOperationException("boom after flush");
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Wire.AssertAborted(client);
    }

    [Test]
    public void ExceptionAfterFlushingAbortsAnHttp10ResponseWithAReset()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.Write("started"u8);
            c.Response.Flush();
            throw new InvalidOperationException("boom after flush");
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.0\r\n\r\n");

        // Close-delimited: a clean end of stream would look complete, so only a reset is acceptable.
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
        var e = Assert.Throws<IOException>(() => client.ReadToEnd())!;
        Assert.That(e.InnerException, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionReset));
    }

    [Test]
    public void DeclaredContentLengthLeftShortAfterFlushingAborts()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 100;
            c.Response.Write(new byte[10]);
            c.Response.Flush();
            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Wire.AssertAborted(client);
    }

    [Test]
    public void DeclaredContentLengthLeftShortBeforeAnythingWasSentBecomes500()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 100;
            c.Response.Write(new byte[10]);
            return ValueTask.CompletedTask;
        }));
        Wire.AssertRejected(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 500 Internal Server Error");
    }

    [Test]
    public void WritingPastTheDeclaredContentLengthThrowsAndNeverSendsTheExtraBytes()
    {
        Exception? thrown = null;
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 5;
            try
            {
                c.Response.Write("0123456789"u8);
            }
            catch (InvalidOperationException e)
            {
                thrown = e;
                throw;
            }

            return ValueTask.CompletedTask;
        }));
        Wire.AssertRejected(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 500 Internal Server Error");
        Assert.That(thrown, Is.Not.Null, "Write throws at once when it passes the declared Content-Length");
    }

    [Test]
    public void WritingPastTheDeclaredContentLengthAfterFlushingAborts()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.ContentLength = 5;
            c.Response.Write("01234"u8);
            c.Response.Flush();
            c.Response.Write("56789"u8);
            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.BodyText, Is.EqualTo("01234"));
        Assert.That(Wire.ServerClosed(client), Is.True, "the connection is aborted; the extra bytes never follow");
    }

    [Test]
    public void ClientDisconnectingMidResponseIsLoggedAtDebugAndOthersAreStillServed()
    {
        var gone = new ManualResetEventSlim();
        var chunk = new byte[64 * 1024];
        using var server = new TestServer(new LambdaWorker(c =>
        {
            if (c.Request.Path == "/huge")
            {
                try
                {
                    // Far more than socket buffers hold: the writes fail once the client is gone.
                    for (var i = 0; i < 16 * 1024; i++)
                    {
                        c.Response.Write(chunk);
                    }
                }
                finally
                {
                    gone.Set();
                }
            }
            else
            {
                c.Response.Write("still here"u8);
            }

            return ValueTask.CompletedTask;
        }));
        TestLogging.Memory.Logs.Clear();
        using (var client = server.Connect())
        {
            client.Send("GET /huge HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
            client.Socket.LingerState = new LingerOption(true, 0);
        }

        Assert.That(gone.Wait(TimeSpan.FromSeconds(20)), Is.True, "the handler's writes ended");
        Assert.That(Wire.WaitUntil(() => TestLogging.Memory.Logs.ToArray().Any(l => l.Contains("/huge")), TimeSpan.FromSeconds(10)), Is.True);
        var lines = TestLogging.Memory.Logs.ToArray().Where(l => l.Contains("/huge")).ToList();
        Assert.That(lines, Has.Some.StartsWith("DEBUG Rocket ").And.Contain("went away"));
        Assert.That(lines, Has.None.StartsWith("ERROR"));
        Assert.That(Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").BodyText, Is.EqualTo("still here"));
    }

    [Test]
    public void ExceptionInAHandlerIsLoggedAsAnError()
    {
        using var server = new TestServer(new LambdaWorker(_ => throw new InvalidOperationException("logged-boom")));
        TestLogging.Memory.Logs.Clear();
        Wire.Exchange(server, "GET /fails HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(Wire.WaitUntil(() => TestLogging.Memory.Logs.ToArray().Any(l => l.Contains("logged-boom")), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(TestLogging.Memory.Logs.ToArray().Where(l => l.Contains("logged-boom")), Has.All.StartWith("ERROR Rocket.Errors"));
    }
}
