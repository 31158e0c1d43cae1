using System.Text;
using RocketOwin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// <see cref="Worker.NeverBlocks"/>: requests of a worker that never blocks start on the thread that saw their bytes
/// arrive; whatever cannot be done there without blocking (a head needing a second receive, a refused head, pipelined
/// requests) still goes to a worker thread and is answered exactly as before.
/// </summary>
public class NeverBlocksTests
{
    private static readonly TimeSpan IdleGap = TimeSpan.FromMilliseconds(150);

    [Test]
    public void KeepAliveRequestsOfANonBlockingWorkerStartOffTheWorkerThreadsAndOthersStayOnThem()
    {
        var nonBlocking = ThreadsServing(new NonBlockingWorker(neverBlocks: true));
        var blocking = ThreadsServing(new NonBlockingWorker(neverBlocks: false));

        // The client waits for each answer and pauses, so each request after the first finds its connection idle.
        Assert.That(nonBlocking.Skip(1).Count(name => !IsWorkerThread(name)), Is.GreaterThan(0), string.Join(", ", nonBlocking));
        Assert.That(blocking.All(IsWorkerThread), Is.True, string.Join(", ", blocking));
    }

    [Test]
    public void AnAsynchronousHandlerThatNeverBlocksServesManyRequestsOnOneConnection()
    {
        using var server = new TestServer(new NonBlockingWorker(neverBlocks: true, awaitFirst: true));
        using var client = server.Connect();
        for (var i = 0; i < 20; i++)
        {
            client.Send($"GET /a{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().BodyText, Does.StartWith($"/a{i} "));
        }
    }

    [Test]
    public void AHeadSplitAcrossIdleWaitsIsAssembledAndAnswered()
    {
        using var server = new TestServer(new NonBlockingWorker(neverBlocks: true));
        using var client = server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Does.StartWith("/first "));
        foreach (var part in new[] { "GET /sp", "lit HTTP/1.1\r\nHo", "st: x\r\n", "\r\n" })
        {
            Thread.Sleep(IdleGap); // let the connection go idle between the parts: each part wakes it
            client.Send(part);
        }

        Assert.That(client.ReadResponse().BodyText, Does.StartWith("/split "));
    }

    [Test]
    public void AHeadLargerThanOneReceiveIsHandedToAWorkerAndAnswered()
    {
        using var server = new TestServer(new NonBlockingWorker(neverBlocks: true));
        using var client = server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        Thread.Sleep(IdleGap);
        client.Send($"GET /big HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 9000)}\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.BodyText, Does.StartWith("/big "));
        Assert.That(IsWorkerThread(response.BodyText.Split(' ', 2)[1]), Is.True, "the second receive may block: a worker thread's job");
    }

    [Test]
    public void ARefusedHeadOnAnIdleConnectionIsAnsweredWith400AndClosed()
    {
        using var server = new TestServer(new NonBlockingWorker(neverBlocks: true));
        using var client = server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        Thread.Sleep(IdleGap);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void PipelinedRequestsToANonBlockingWorkerAreAnsweredInOrder()
    {
        using var server = new TestServer(new NonBlockingWorker(neverBlocks: true, awaitFirst: true));
        using var client = server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        Thread.Sleep(IdleGap);
        client.Send(string.Concat(Enumerable.Range(0, 5).Select(i => $"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n")));
        for (var i = 0; i < 5; i++)
        {
            Assert.That(client.ReadResponse().BodyText, Does.StartWith($"/p{i} "));
        }
    }

    private static List<string> ThreadsServing(Worker worker)
    {
        using var server = new TestServer(worker);
        using var client = server.Connect();
        var names = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            if (i > 0)
            {
                Thread.Sleep(IdleGap);
            }

            client.Send($"GET /t{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            var body = client.ReadResponse().BodyText;
            Assert.That(body, Does.StartWith($"/t{i} "));
            names.Add(body.Split(' ', 2)[1]);
        }

        return names;
    }

    private static bool IsWorkerThread(string name) => name.StartsWith(WorkerThreadStates.NamePrefix, StringComparison.Ordinal);

    /// <summary>Answers "path thread-name"; <c>awaitFirst</c>: after a real asynchronous wait (a timer), as a proxy waits for its upstream.</summary>
    private sealed class NonBlockingWorker(bool neverBlocks, bool awaitFirst = false) : Worker
    {
        protected internal override bool NeverBlocks => neverBlocks;

        protected override async ValueTask HandleAsync(RequestContext context)
        {
            var thread = Thread.CurrentThread.Name ?? "unnamed";
            if (awaitFirst)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }

            context.Response.Write(Encoding.UTF8.GetBytes($"{context.Request.Path} {thread}"));
        }
    }
}
