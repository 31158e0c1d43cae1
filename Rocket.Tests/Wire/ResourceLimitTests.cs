using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>What a client can hold by sending or reading slowly, or by opening too many connections: bounded, over real sockets.</summary>
public class ResourceLimitTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [Test]
    public void ConnectionsPastMaxConcurrentConnectionsAreAnswered503AndServedAgainOnceOneCloses()
    {
        using var server = new TestServer(Apps.Hello(), limits: new ServerLimits { MaxConcurrentConnections = 2 });
        using var first = server.Connect();
        using (var second = server.Connect())
        {
            first.Send(Get);
            Assert.That(first.ReadResponse().StatusCode, Is.EqualTo(200));
            second.Send(Get);
            Assert.That(second.ReadResponse().StatusCode, Is.EqualTo(200));

            using var third = server.Connect();
            var refused = third.ReadResponse();
            Assert.That(refused.StatusLine, Is.EqualTo("HTTP/1.1 503 Service Unavailable"));
            Assert.That(refused.Header("Connection"), Is.EqualTo("close"));
            Assert.That(Wire.ServerClosed(third), Is.True);
        }

        Assert.That(Wire.WaitUntil(() => server.Server.ConnectionCount == 1, TimeSpan.FromSeconds(10)), Is.True, "the closed connection was counted out");
        using var fourth = server.Connect();
        fourth.Send(Get);
        Assert.That(fourth.ReadResponse().StatusCode, Is.EqualTo(200));
        first.Send(Get);
        Assert.That(first.ReadResponse().StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void HeadAndBodyDrippedAtOneBytePerSecondAreCutWith408WithinTwentySecondsByDefault()
    {
        // The body is read synchronously by the handler: the drip holds a worker thread until the rate cuts it.
        using var server = new TestServer(new LambdaWorker(c =>
        {
            var buffer = new byte[100];
            while (c.RequestBody.Read(buffer) > 0)
            {
            }

            c.Response.Write("read"u8);
            return ValueTask.CompletedTask;
        }));

        var head = Task.Run(() => Drip(server, "GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: " + new string('a', 100)));
        var body = Task.Run(() => Drip(server, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", new string('b', 100)));
        foreach (var (what, task) in new[] { ("head", head), ("body", body) })
        {
            var (status, elapsed) = task.GetAwaiter().GetResult();
            TestContext.Out.WriteLine($"{what}: {status} after {elapsed.TotalSeconds:0.0} s");
            Assert.That(status, Is.EqualTo("HTTP/1.1 408 Request Timeout"), what);
            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), what);
        }
    }

    [Test]
    public void AClientThatNeverReadsTheResponseIsCutByTheMinimumResponseRate()
    {
        var chunk = new byte[64 * 1024];

        // Asynchronous writes: no socket timeout bounds them, only the rate does.
        AssertCutWhenTheClientNeverReads(
            async c =>
            {
                for (var i = 0; i < 1024; i++)
                {
                    await c.Response.WriteAsync(chunk);
                }
            },
            new ServerLimits { MinResponseDataRate = 50_000, MinResponseDataRateGracePeriod = TimeSpan.FromSeconds(1) },
            "the stalled response was never cut");
    }

    [Test]
    public void AFileSentToAClientThatNeverReadsIsCutAfterTheIOTimeout()
    {
        var file = Path.Combine(Path.GetTempPath(), "rocket-never-read-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllBytes(file, new byte[32 * 1024 * 1024]);
        try
        {
            // sendfile with no minimum rate: only the I/O timeout (nothing acknowledged for that long) bounds it.
            AssertCutWhenTheClientNeverReads(
                async c =>
                {
                    c.Response.Headers.Set("Content-Length", "33554432");
                    await c.Response.SendFileAsync(file, 0, 32 * 1024 * 1024);
                },
                new ServerLimits { MinResponseDataRate = null, IOTimeout = TimeSpan.FromSeconds(2) },
                "the stalled file send was never cut");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void AnAsynchronousBodyReadThatReceivesNothingIsAnswered408AfterTheIOTimeout()
    {
        // No minimum rate: only the IOTimeout on the read, which the monitor's sweep enforces for asynchronous reads.
        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                var buffer = new byte[100];
                try
                {
                    while (await c.RequestBody.ReadAsync(buffer) > 0)
                    {
                    }
                }
                catch (Exception e)
                {
                    failure.TrySetResult(e);
                    throw;
                }

                c.Response.Write("read"u8);
            }),
            limits: new ServerLimits { MinRequestBodyDataRate = null, IOTimeout = TimeSpan.FromSeconds(2) });
        using var client = server.Connect();
        var clock = Stopwatch.StartNew();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");

        var response = client.ReadResponse();
        TestContext.Out.WriteLine($"{response.StatusLine} after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 408 Request Timeout"));
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(1.9)).And.LessThan(TimeSpan.FromSeconds(20)));
        Assert.That(failure.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(failure.Task.Result, Is.TypeOf<BadRequestException>().With.Property(nameof(BadRequestException.Reason)).EqualTo(RequestRejectionReason.RequestBodyTimeout));
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void TheIOTimeoutOnAsynchronousBodyReadsCountsEachWaitNotTheWholeBody()
    {
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                var buffer = new byte[100];
                var total = 0;
                int n;
                while ((n = await c.RequestBody.ReadAsync(buffer)) > 0)
                {
                    total += n;
                }

                c.Response.Write(Encoding.ASCII.GetBytes($"read {total}"));
            }),
            limits: new ServerLimits { MinRequestBodyDataRate = null, IOTimeout = TimeSpan.FromSeconds(2) });
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");

        // 4 s of body in all, each wait under the 2 s timeout.
        for (var i = 0; i < 4; i++)
        {
            Thread.Sleep(1000);
            client.Send("x");
        }

        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("read 4"));
    }

    /// <summary>Serves <paramref name="send"/> to a client that never reads: the send must fail within 20 s and the connection close.</summary>
    private static void AssertCutWhenTheClientNeverReads(Func<RequestContext, Task> send, ServerLimits limits, string neverCut)
    {
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = new TestServer(
            new LambdaWorker(async c =>
            {
                try
                {
                    await send(c);
                }
                catch (Exception e)
                {
                    failed.TrySetResult(e);
                    throw;
                }
            }),
            limits: limits);

        using var client = server.Connect();
        client.Socket.ReceiveBufferSize = 4096;
        client.Send(Get);
        var clock = Stopwatch.StartNew();
        Assert.That(failed.Task.Wait(TimeSpan.FromSeconds(20)), Is.True, neverCut);
        TestContext.Out.WriteLine($"cut after {clock.Elapsed.TotalSeconds:0.0} s: {failed.Task.Result.Message}");
        Assert.That(Wire.WaitUntil(() => server.Server.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True, "connection closed");
    }

    [Test]
    public void UnreadBodiesTrickledBySlowClientsHoldNoWorkerThreads()
    {
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                c.Response.StatusCode = 405;
                return ValueTask.CompletedTask;
            }),
            minThreads: 2,
            maxThreads: 0);

        // Each client declares a body the handler never reads, gets its answer, then trickles the body.
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var c = server.Connect();
                clients.Add(c);
                c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\nx");
                Assert.That(c.ReadResponse().StatusCode, Is.EqualTo(405));
            }

            clients.ForEach(c => c.Send("y"));

            // Workers are free: a fresh request is answered at once, and the pool did not grow a thread per drain.
            using var fresh = server.Connect();
            fresh.Send(Get);
            Assert.That(fresh.ReadResponse().StatusCode, Is.EqualTo(405));
            Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount == 0, TimeSpan.FromSeconds(3)), Is.True, $"{server.Server.BusyThreadCount} threads busy while 40 bodies drain");
            Assert.That(server.Server.ThreadCount, Is.LessThan(10));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void AnUnreadBodyThatStopsArrivingIsAbandonedAfterTheDrainTimeoutAndTheConnectionClosed()
    {
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                c.Response.Write("ignored"u8);
                return ValueTask.CompletedTask;
            }),
            limits: new ServerLimits { UnreadBodyDrainTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = server.Connect();
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        Assert.That(Wire.ServerClosed(client), Is.True);

        // A body that does arrive is drained and the connection kept.
        using var whole = server.Connect();
        whole.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
        Assert.That(whole.ReadResponse().StatusCode, Is.EqualTo(200));
        whole.Send(new string('d', 997) + Get);
        Assert.That(whole.ReadResponse().StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void APoolSaturatedByCpuBoundHandlersDoesNotGrowButOneWhoseHandlersWaitDoes()
    {
        var cpuBound = MostThreadsWhileServing(c =>
        {
            var spin = Stopwatch.StartNew();
            while (spin.ElapsedMilliseconds < 150)
            {
                Thread.SpinWait(1000);
            }
        });
        var waiting = MostThreadsWhileServing(_ => Thread.Sleep(300));
        TestContext.Out.WriteLine($"most threads: {cpuBound} CPU-bound, {waiting} waiting ({Environment.ProcessorCount} processors)");
        // Before: 25 threads for both. A garbage collection or a loaded machine may let a thread or two through.
        Assert.That(cpuBound, Is.LessThanOrEqualTo(8), "CPU-bound: more threads only add contention");
        Assert.That(waiting, Is.GreaterThan(12), "waiting handlers: the pool grows");
    }

    [Test]
    public void TheDefaultMaximumOfThreadsIsDerivedFromTheMachineAndZeroStillMeansNoLimit()
    {
        var derived = new Rocket(("127.0.0.1", 0), "any", minThreads: 2, handleSignals: false);
        Assert.That(derived.MaxThreads, Is.InRange(2, 64 * Environment.ProcessorCount));
        Assert.That(new Rocket(("127.0.0.1", 0), "any", minThreads: 2, maxThreads: 0, handleSignals: false).MaxThreads, Is.Zero);
        Assert.That(new Rocket(("127.0.0.1", 0), "any", minThreads: 500, handleSignals: false).MaxThreads, Is.GreaterThanOrEqualTo(500));
        Assert.That(RocketOwin.Internal.ProcessLimits.DefaultMaxThreads(10, 2, null), Is.EqualTo(128));
        Assert.That(RocketOwin.Internal.ProcessLimits.DefaultMaxThreads(10, 2, 100), Is.EqualTo(50));
        Assert.That(RocketOwin.Internal.ProcessLimits.DefaultMaxThreads(10, 2, 12), Is.EqualTo(10));
        Assert.That(RocketOwin.Internal.ProcessLimits.DefaultMaxConnections(1024), Is.EqualTo(896));
        Assert.That(RocketOwin.Internal.ProcessLimits.DefaultMaxConnections(20_000), Is.EqualTo(17_500));
        Assert.That(RocketOwin.Internal.ProcessLimits.DescriptorLimit(), Is.GreaterThan(0));
    }

    /// <summary>24 clients send one request each at once to a pool of 2 with no maximum; returns the most threads seen.</summary>
    private static int MostThreadsWhileServing(Action<RequestContext> handler)
    {
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                handler(c);
                c.Response.Write("done"u8);
                return ValueTask.CompletedTask;
            }),
            minThreads: 2,
            maxThreads: 0);
        var clients = Enumerable.Range(0, 24).Select(_ => server.Connect()).ToList();
        try
        {
            clients.ForEach(c => c.Send(Get));
            var most = 0;
            var reading = Task.Run(() => clients.ForEach(c => Assert.That(c.ReadResponse().StatusCode, Is.EqualTo(200))));
            while (!reading.Wait(20))
            {
                most = Math.Max(most, server.Server.ThreadCount);
            }

            reading.GetAwaiter().GetResult();
            return Math.Max(most, server.Server.ThreadCount);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Sends <paramref name="start"/>, then <paramref name="drip"/> one byte a second; returns the status line that ended it and when.</summary>
    private static (string? Status, TimeSpan Elapsed) Drip(TestServer server, string start, string drip)
    {
        using var client = new RawClient(server.EndPoint, timeoutMs: 30_000);
        var clock = Stopwatch.StartNew();
        client.Send(start);
        foreach (var b in Encoding.ASCII.GetBytes(drip))
        {
            if (client.Socket.Poll(1_000_000, SelectMode.SelectRead))
            {
                break; // the server answered (or closed)
            }

            try
            {
                client.Send([b]);
            }
            catch (IOException)
            {
                break;
            }
        }

        try
        {
            return (client.ReadLine(), clock.Elapsed);
        }
        catch (IOException)
        {
            return (null, clock.Elapsed);
        }
    }
}
