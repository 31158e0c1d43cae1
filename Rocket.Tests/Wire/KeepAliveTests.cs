using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Persistent connections (RFC 9112 §9.3) and pipelining.</summary>
public class KeepAliveTests
{
    private TestServer _server = null!;

    [OneTimeSetUp]
    public void StartServer() => _server = new TestServer(Apps.Target());

    [OneTimeTearDown]
    public void StopServer() => _server.Dispose();

    [Test]
    public void Http11ConnectionsStayOpenBetweenRequests()
    {
        using var client = _server.Connect();
        for (var i = 0; i < 5; i++)
        {
            client.Send($"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            var response = client.ReadResponse();
            Assert.That(response.BodyText, Is.EqualTo($"GET /r{i} "));
            Assert.That(response.Header("Connection"), Is.Null);
        }
    }

    [Test]
    public void Http11ConnectionClosesWhenTheClientAsks()
    {
        using var client = _server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void Http10ConnectionClosesByDefault()
    {
        using var client = _server.Connect();
        client.Send("GET / HTTP/1.0\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Connection"), Is.Null);
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void Http10ConnectionStaysOpenWithKeepAlive()
    {
        using var client = _server.Connect();
        client.Send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = client.ReadResponse();
        Assert.That(first.Header("Connection"), Is.EqualTo("keep-alive"));
        Assert.That(first.BodyText, Is.EqualTo("GET /one "));
        client.Send("GET /two HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /two "));
        client.Send("GET /three HTTP/1.0\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /three "));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void HandlerCanCloseTheConnection()
    {
        using var server = new TestServer(new LambdaWorker(c =>
        {
            c.Response.Headers.Set("Connection", "close");
            c.Response.Write("bye"u8);
            return ValueTask.CompletedTask;
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.HeaderCount("Connection"), Is.EqualTo(1));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void PipelinedRequestsAreAnsweredInOrder()
    {
        using var client = _server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /second?q=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "DELETE /third HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /first "));
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("POST /second q=2"));
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("DELETE /third "));
    }

    [Test]
    public void ManyPipelinedRequestsAreAnsweredInOrder()
    {
        const int count = 200;
        using var client = _server.Connect();
        var batch = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            batch.Append("GET /p").Append(i).Append(" HTTP/1.1\r\nHost: x\r\n\r\n");
        }

        client.Send(batch.ToString());
        for (var i = 0; i < count; i++)
        {
            Assert.That(client.ReadResponse().BodyText, Is.EqualTo($"GET /p{i} "));
        }
    }

    [Test]
    public void PipelinedRequestsWithAsyncHandlersAreAnsweredInOrder()
    {
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            // Later requests finish their handler sooner: order must come from the connection, not from timing.
            await Task.Delay(c.Request.Path == "/slow" ? 200 : 1);
            c.Response.Write(Encoding.ASCII.GetBytes(c.Request.Path));
        }));
        using var client = server.Connect();
        client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("/slow"));
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("/fast"));
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("/last"));
    }

    [Test]
    public void PipelinedRequestAfterConnectionCloseIsNotServed()
    {
        using var client = _server.Connect();
        client.Send("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.BodyText, Is.EqualTo("GET /last "));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void PipelinedRequestAfterARejectedOneIsNotServed()
    {
        using var client = _server.Connect();
        client.Send("GET / HTTP/1.1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void RequestSplitAcrossManySendsIsServed()
    {
        using var client = _server.Connect();
        foreach (var piece in new[] { "GE", "T /sp", "lit HTTP/1.", "1\r", "\nHost:", " x\r\n", "\r", "\n" })
        {
            client.Send(piece);
        }

        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("GET /split "));
    }
}
