using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Request body framing: Content-Length, chunked, 100-continue, and draining what the handler leaves unread.</summary>
public class RequestBodyTests
{
    [Test]
    public void AnAsyncHandlerThatLeavesTheBodyUnreadDoesNotBlockTheThreadThatCompletesIt()
    {
        // The thread that completes an async handler may be the socket engine's own (with inline completions):
        // if finishing the request blocked on draining the unread body there, every connection would wait with it.
        var release = new TaskCompletionSource(); // continuations run inline, on the thread that calls SetResult
        using var entered = new ManualResetEventSlim();
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                entered.Set();
                await release.Task;
                c.Response.Write("answered"u8);
            }),
            limits: new ServerLimits { IOTimeout = TimeSpan.FromSeconds(10) });
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);

        Assert.That(Wire.TimeToComplete(release), Is.LessThan(TimeSpan.FromSeconds(5)), "finishing the request blocked the completing thread");

        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("answered"));

        // The drain (on a worker thread) takes the rest of the body, and the connection serves the next request.
        client.Send(new string('x', 990) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("answered"));
    }

    [Test]
    public void ServerReadsAContentLengthBody()
    {
        using var server = new TestServer(Apps.Echo());
        using var client = server.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello world"));
    }

    [Test]
    public void ServerReadsALargeContentLengthBodyArrivingInPieces()
    {
        using var server = new TestServer(Apps.Echo());
        using var client = server.Connect();
        var body = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        client.Send($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n");
        for (var i = 0; i < body.Length; i += 50_000)
        {
            client.Send(body[i..Math.Min(body.Length, i + 50_000)]);
        }

        var response = client.ReadResponse();
        Assert.That(response.Body, Is.EqualTo(body));
    }

    [Test]
    public void ServerReadsAChunkedBodyWithExtensionsAndTrailers()
    {
        using var server = new TestServer(Apps.Echo());
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value\r\nhello\r\n1 ;flag\r\n \r\n5\r\nworld\r\n0;end=1\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello world"));

        // The trailers were consumed with the body: the connection is ready for the next request.
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("ok"));
    }

    [Test]
    public void HandlerSeesTheFramingOfTheRequest()
    {
        var seen = new List<string>();
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            var body = await new StreamReader(c.RequestBody).ReadToEndAsync();
            seen.Add($"{c.Request.ContentLength?.ToString() ?? "null"} {c.Request.IsChunked} {c.Request.HasBody} {body}");
        }));
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        client.ReadResponse();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nde");
        client.ReadResponse();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        Assert.That(seen, Is.EqualTo(new[] { "null True True abc", "2 False True de", "0 False False " }));
    }

    [Test]
    public void ServerSends100ContinueWhenTheHandlerReadsTheBody()
    {
        using var server = new TestServer(Apps.Echo());
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 100 Continue"));
        Assert.That(client.ReadLine(), Is.Empty);
        client.Send("hello");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hello"));
    }

    [Test]
    public void ServerDoesNotSend100ContinueWhenTheHandlerIgnoresTheBody()
    {
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("Hello, World!"));

        // The body was never asked for, so the connection cannot carry another request.
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerIgnoresExpectContinueOnHttp10()
    {
        using var server = new TestServer(Apps.Echo());
        using var client = server.Connect();
        client.Send("POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("hi"));
    }

    [Test]
    public void ServerDrainsASmallUnreadBodyAndKeepsTheConnection()
    {
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var third = client.ReadResponse();
        Assert.That(third.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(third.BodyText, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void ServerClosesInsteadOfDrainingAnUnreadBodyOverTheLimit()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { MaxUnreadBodyToDrain = 1000 });
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + Wire.Repeat('a', 1500));
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("Hello, World!"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void ServerAnswersBeforeDrainingSoAClientWaitingForTheAnswerIsNotStuck()
    {
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();

        // The body is withheld until the answer arrives (as a client that gave up on 100-continue might).
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        client.Send("body");
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void SynchronousReadsOfTheBodyWork()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            var buffer = new byte[7];
            var total = new MemoryStream();
            int n;
            while ((n = c.RequestBody.Read(buffer, 0, buffer.Length)) > 0)
            {
                total.Write(buffer, 0, n);
            }

            c.Response.Write(Encoding.ASCII.GetBytes(total.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("16"));
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + Wire.Repeat('z', 20000));
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("20000"));
    }
}
