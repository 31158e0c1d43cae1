using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>The engine's promises: idle connections pin no thread, the pool grows and shrinks, async handlers free their thread.</summary>
public class EngineTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [Test]
    public void IdleKeepAliveClientsNeverDelayAnotherClient()
    {
        using var server = new TestServer(Apps.Hello(), minThreads: 2, maxThreads: 2);
        using var idle1 = server.Connect();
        using var idle2 = server.Connect();
        foreach (var idle in new[] { idle1, idle2 })
        {
            idle.Send(Get);
            Assert.That(idle.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        }

        // Both threads' connections are now idle and open. A design that pins a worker per idle connection
        // (Rocket waited 10 s on each) leaves no thread for this client: it would not be answered within 5 s.
        using var third = new RawClient(server.EndPoint, timeoutMs: 5_000);
        third.Send(Get);
        Assert.That(third.ReadResponse().BodyText, Is.EqualTo("Hello, World!"));

        // The idle connections were open all along and still work.
        foreach (var idle in new[] { idle1, idle2 })
        {
            idle.Send(Get);
            Assert.That(idle.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        }

        Assert.That(server.Server.ThreadCount, Is.EqualTo(2));
    }

    [Test]
    public void ManyIdleConnectionsDoNotGrowThePool()
    {
        using var server = new TestServer(Apps.Hello(), minThreads: 2);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < 50; i++)
            {
                var c = server.Connect();
                clients.Add(c);
                c.Send(Get);
                c.ReadResponse();
            }

            Assert.That(server.Server.ConnectionCount, Is.EqualTo(50));
            Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount == 0, TimeSpan.FromSeconds(10)), Is.True);
            Assert.That(server.Server.ThreadCount, Is.LessThanOrEqualTo(4));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void PoolGrowsWhileConnectionsWaitAndShrinksBackToMinThreads()
    {
        const int requests = 6;
        var gate = new ManualResetEventSlim();
        var entered = 0;
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                Interlocked.Increment(ref entered);
                gate.Wait(TimeSpan.FromSeconds(30));
                c.Response.Write("done"u8);
                return ValueTask.CompletedTask;
            }),
            minThreads: 2,
            limits: new ServerLimits { ThreadIdleTimeout = TimeSpan.FromMilliseconds(200) });
        Assert.That(server.Server.ThreadCount, Is.EqualTo(2));
        var clients = Enumerable.Range(0, requests).Select(_ => server.Connect()).ToList();
        try
        {
            clients.ForEach(c => c.Send(Get));

            // Every handler blocks its thread, so all of them running at once proves the pool grew.
            Assert.That(Wire.WaitUntil(() => Volatile.Read(ref entered) == requests, TimeSpan.FromSeconds(15)), Is.True, $"entered {entered}");
            Assert.That(server.Server.ThreadCount, Is.GreaterThanOrEqualTo(requests));
            Assert.That(server.Server.BusyThreadCount, Is.EqualTo(requests));
            gate.Set();
            clients.ForEach(c => Assert.That(c.ReadResponse().BodyText, Is.EqualTo("done")));

            Assert.That(Wire.WaitUntil(() => server.Server.ThreadCount == 2, TimeSpan.FromSeconds(15)), Is.True, $"threads {server.Server.ThreadCount}");

            // Still serving after shrinking.
            clients[0].Send(Get);
            Assert.That(clients[0].ReadResponse().BodyText, Is.EqualTo("done"));
        }
        finally
        {
            gate.Set();
            clients.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void PoolNeverGrowsPastMaxThreadsAndQueuesTheRest()
    {
        var gate = new ManualResetEventSlim();
        var entered = 0;
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                Interlocked.Increment(ref entered);
                gate.Wait(TimeSpan.FromSeconds(30));
                c.Response.Write("done"u8);
                return ValueTask.CompletedTask;
            }),
            minThreads: 2,
            maxThreads: 3);
        var clients = Enumerable.Range(0, 6).Select(_ => server.Connect()).ToList();
        try
        {
            clients.ForEach(c => c.Send(Get));
            Assert.That(Wire.WaitUntil(() => Volatile.Read(ref entered) == 3 && server.Server.QueuedConnectionCount == 3, TimeSpan.FromSeconds(15)), Is.True, $"entered {entered}, queued {server.Server.QueuedConnectionCount}");
            Assert.That(server.Server.ThreadCount, Is.EqualTo(3));
            gate.Set();
            clients.ForEach(c => Assert.That(c.ReadResponse().BodyText, Is.EqualTo("done")));
            Assert.That(entered, Is.EqualTo(6));
        }
        finally
        {
            gate.Set();
            clients.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void AwaitingHandlersDoNotHoldWorkerThreads()
    {
        const int requests = 50;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                Interlocked.Increment(ref entered);
                await gate.Task;
                c.Response.Write("done"u8);
            }),
            minThreads: 2,
            maxThreads: 2);
        var clients = Enumerable.Range(0, requests).Select(_ => server.Connect()).ToList();
        try
        {
            clients.ForEach(c => c.Send(Get));

            // Two threads, fifty requests waiting at once: only possible if waiting requests hold no thread.
            Assert.That(Wire.WaitUntil(() => Volatile.Read(ref entered) == requests, TimeSpan.FromSeconds(15)), Is.True, $"entered {entered}");
            gate.SetResult();
            clients.ForEach(c => Assert.That(c.ReadResponse().BodyText, Is.EqualTo("done")));
        }
        finally
        {
            gate.TrySetResult();
            clients.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void TwoHundredConcurrentAsyncRequestsCompleteWithFewThreads()
    {
        const int requests = 200;
        const int minThreads = 4;
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                await Task.Delay(100);
                c.Response.Write("done"u8);
            }),
            minThreads: minThreads);
        var maxThreads = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxThreads = Math.Max(maxThreads, server.Server.ThreadCount);
                await Task.Delay(5);
            }
        });

        var clients = Enumerable.Range(0, requests).Select(_ => server.Connect()).ToList();
        try
        {
            // One test thread sends all, then reads all: the .NET thread pool stays free for the handlers' continuations.
            clients.ForEach(c => c.Send(Get));
            Assert.That(clients.Select(c => c.ReadResponse().BodyText), Has.All.EqualTo("done"));
        }
        finally
        {
            sampling.Cancel();
            sampler.Wait();
            clients.ForEach(c => c.Dispose());
        }

        // A design that holds a thread per awaiting request needs ~200 here. The bound leaves room for the pool's
        // legitimate growth when this shared machine starves it (a connection queued over 50 ms adds a thread):
        // seen up to 17 with two CPU hogs running, 4 on a quiet machine.
        TestContext.Out.WriteLine($"most threads seen: {maxThreads}");
        Assert.That(maxThreads, Is.LessThan(requests / 4), "threads while 200 requests were awaiting");
    }
}
