using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// Stop loses no request: what is in flight or already received is answered with <c>Connection: close</c>, an idle
/// connection is answered if a request arrives on it during the grace, and closed (never reset) when none does.
/// </summary>
public class DrainTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [OneTimeSetUp]
    public void Logging() => TestLogging.EnsureConfigured();

    [Test]
    public void ARequestInFlightAndThePipelinedRequestsBehindItAreAllAnsweredTheLastWithConnectionClose()
    {
        var entered = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var server = new TestServer(Apps.SlowPath(entered, release, c => System.Text.Encoding.ASCII.GetBytes(c.Request.Path)));
        using var client = server.Connect();
        client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);

        var stopping = Task.Run(server.Dispose);
        Assert.That(Wire.WaitUntil(() => !server.Server.IsRunning, TimeSpan.FromSeconds(10)), Is.True);
        release.Set();

        var responses = Enumerable.Range(0, 3).Select(_ => client.ReadResponse()).ToList();
        Assert.That(responses.Select(r => r.BodyText), Is.EqualTo(new[] { "/slow", "/second", "/third" }));
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(200));
        Assert.That(responses[..2].Select(r => r.Header("Connection")), Is.All.Null, "kept alive while more requests were waiting");
        Assert.That(responses[2].Header("Connection"), Is.EqualTo("close"));
        Assert.That(client.IsClosedByServer(), Is.True);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(15)), Is.True);
    }

    private static bool Accepts(System.Net.IPEndPoint endPoint)
    {
        try
        {
            new RawClient(endPoint).Dispose();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Test]
    public void ARequestOnAnIdleConnectionDuringStopIsAnsweredWithConnectionClose()
    {
        var server = new TestServer(Apps.Hello(), limits: new ServerLimits { ShutdownIdleGrace = TimeSpan.FromSeconds(20) });
        using var client = server.Connect();
        client.Send(Get);
        Assert.That(client.ReadResponse().Header("Connection"), Is.Null);

        var endPoint = server.EndPoint;
        var stopping = Task.Run(server.Dispose);
        Assert.That(Wire.WaitUntil(() => !Accepts(endPoint), TimeSpan.FromSeconds(10)), Is.True, "no longer accepting");
        Assert.That(stopping.IsCompleted, Is.False, "the idle connection is kept through the grace");

        client.Send(Get);
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.Header("Connection"), Is.EqualTo("close"));
        Assert.That(client.IsClosedByServer(), Is.True);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(10)), Is.True, "Stop ends once the last connection closed, not at the grace");
    }

    [Test]
    public void AnIdleConnectionIsClosedCleanlyAfterTheGraceAndStopDoesNotWaitForTheShutdownTimeout()
    {
        var server = new TestServer(Apps.Hello(), limits: new ServerLimits { ShutdownIdleGrace = TimeSpan.FromMilliseconds(200), ShutdownTimeout = TimeSpan.FromSeconds(60) });
        using var client = server.Connect();
        client.Send(Get);
        client.ReadResponse();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stopping = Task.Run(server.Dispose);

        // A clean end of stream: a reset would throw here.
        Assert.That(client.ReadToEnd(), Is.Empty);
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "well before the 60 s shutdown timeout");
    }

    [Test]
    public void AKeepAliveConnectionWokenWithNothingToReadIsNotHeldByAWorkerAndClosesCleanlyAtTheKeepAliveTimeout()
    {
        using var hold = new ManualResetEventSlim();
        var server = new TestServer(HoldFirst(hold, out var entered), timeout: 1, limits: new ServerLimits { IOTimeout = TimeSpan.FromSeconds(60) });
        try
        {
            using var client = new RawClient(server.EndPoint, timeoutMs: 20_000);
            WakeWithNothingToRead(server, client, hold, entered);

            // Without the check the worker sat in a blocking receive until the 60 s IOTimeout, then reset the connection.
            Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount > 0, TimeSpan.FromMilliseconds(500)), Is.False, "no worker took the connection");
            Assert.That(client.ReadToEnd(), Is.Empty, "closed cleanly (a reset or the read timeout would throw)");
        }
        finally
        {
            server.Dispose();
        }
    }

    [Test]
    public void AConnectionWokenWithNothingToReadJustBeforeStopIsClosedByTheDrainAtOnce()
    {
        using var hold = new ManualResetEventSlim();
        var server = new TestServer(HoldFirst(hold, out var entered), limits: new ServerLimits { ShutdownIdleGrace = TimeSpan.Zero, ShutdownTimeout = TimeSpan.FromSeconds(60), IOTimeout = TimeSpan.FromSeconds(60) });
        using var client = new RawClient(server.EndPoint, timeoutMs: 20_000);
        WakeWithNothingToRead(server, client, hold, entered);

        var stopping = Task.Run(server.Dispose);
        Assert.That(client.ReadToEnd(), Is.Empty, "closed cleanly by the drain (it waited for the 60 s timeouts before)");
        client.Socket.Shutdown(SocketShutdown.Send);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(20)), Is.True);
    }

    [Test]
    public void OverTlsAKeepAliveConnectionWokenWithNothingToReadIsNotHeldByAWorker()
    {
        using var certificates = new TestCertificates();
        using var hold = new ManualResetEventSlim();
        var server = new TestServer(HoldFirst(hold, out var entered), timeout: 1, limits: new ServerLimits { IOTimeout = TimeSpan.FromSeconds(60) },
            interfaces: [("127.0.0.1", 0, certificates.KeyFile, certificates.CertificateFile)]);
        try
        {
            using var tcp = new TcpClient();
            tcp.Connect(server.EndPoint);
            tcp.ReceiveTimeout = 20_000;
            using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            ssl.AuthenticateAsClient("localhost");
            int ReadStatus()
            {
                var head = new List<byte>();
                while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
                {
                    var b = ssl.ReadByte();
                    if (b < 0)
                    {
                        throw new IOException("end of stream in a head");
                    }

                    head.Add((byte)b);
                }

                var text = System.Text.Encoding.ASCII.GetString([.. head]);
                var length = int.Parse(text.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim());
                ssl.ReadExactly(new byte[length]);
                return int.Parse(text[9..12]);
            }

            WakeWithNothingToRead(server, t => ssl.Write(System.Text.Encoding.ASCII.GetBytes(t)), ReadStatus, hold, entered);
            Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount > 0, TimeSpan.FromMilliseconds(500)), Is.False, "no worker took the connection");
            Assert.That(ssl.Read(new byte[16]), Is.EqualTo(0), "closed cleanly at the keep-alive timeout");
        }
        finally
        {
            server.Dispose();
        }
    }

    /// <summary>Answers /hold once <paramref name="hold"/> is set (signalling <paramref name="entered"/>), anything else at once.</summary>
    private static LambdaWorker HoldFirst(ManualResetEventSlim hold, out ManualResetEventSlim entered)
    {
        var inside = entered = new ManualResetEventSlim();
        return new LambdaWorker(c =>
        {
            if (c.Request.Path == "/hold")
            {
                inside.Set();
                hold.Wait(TimeSpan.FromSeconds(30));
            }

            c.Response.Write(Apps.HelloBytes);
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// Makes the idle connection's readiness wait complete with nothing to read, as the socket engine does when it handles
    /// a stale readiness event late: the second request arrives while the first is being answered, so the worker finds it
    /// at once and answers it; the engine handles that arrival's event only after the connection is waiting again (it runs
    /// on the .NET thread pool, held busy here meanwhile), and the wait completes though nothing more was sent.
    /// </summary>
    private static void WakeWithNothingToRead(TestServer server, RawClient client, ManualResetEventSlim hold, ManualResetEventSlim entered)
        => WakeWithNothingToRead(server, client.Send, () => client.ReadResponse().StatusCode, hold, entered);

    private static void WakeWithNothingToRead(TestServer server, Action<string> send, Func<int> readStatus, ManualResetEventSlim hold, ManualResetEventSlim entered)
    {
        // First the connection must wait for data once (the runtime registers a socket with epoll at its first pending
        // receive), and /hold must wake that wait, so the engine is still busy with this socket's events when the next comes.
        send(Get);
        Assert.That(readStatus(), Is.EqualTo(200));
        Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount == 0, TimeSpan.FromSeconds(10)), Is.True);
        send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);

        var poolBusy = new ManualResetEventSlim(); // not disposed: queued items may still wait on it
        var blocked = 0;
        try
        {
            // More items than the pool has threads: the socket engine's work item queues behind them until poolBusy is set.
            for (var i = 0; i < 256; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    Interlocked.Increment(ref blocked);
                    poolBusy.Wait(TimeSpan.FromSeconds(30));
                }, null);
            }

            Assert.That(Wire.WaitUntil(() => Volatile.Read(ref blocked) > 0 && ThreadPool.PendingWorkItemCount > 0, TimeSpan.FromSeconds(10)), Is.True);
            send(Get);
            hold.Set();
            Assert.That(readStatus(), Is.EqualTo(200));
            Assert.That(readStatus(), Is.EqualTo(200));
            Assert.That(Wire.WaitUntil(() => server.Server.BusyThreadCount == 0, TimeSpan.FromSeconds(10)), Is.True, "the connection waits for data again");
        }
        finally
        {
            poolBusy.Set();
        }

        Assert.That(Wire.WaitUntil(() => ThreadPool.PendingWorkItemCount == 0, TimeSpan.FromSeconds(10)), Is.True, "the engine's event handled");
    }

    [Test]
    public void ARequestSentAsStopClosesIdleConnectionsIsAnsweredOrMeetsACleanCloseNeverAReset()
    {
        // Grace 0: the close races the request on purpose. Either the request wins (answered, Connection: close) or the
        // close does (our FIN first, then the request read off and discarded): the client sees end of stream, no reset.
        for (var round = 0; round < 10; round++)
        {
            // ShutdownTimeout well past the client's 45 s read timeout: a connection left open until the timeout fails the
            // read; a merely slow Stop on a loaded machine does not (one run here once needed more than 10 s).
            var server = new TestServer(Apps.Hello(), limits: new ServerLimits { ShutdownIdleGrace = TimeSpan.Zero, ShutdownTimeout = TimeSpan.FromSeconds(90) });
            using var client = new RawClient(server.EndPoint, timeoutMs: 45_000);
            client.Send(Get);
            client.ReadResponse();

            var stopping = Task.Run(server.Dispose);
            client.Send(Get);
            try
            {
                // Connection: close when Stop had begun, keep-alive when the request got there first; either way it is answered.
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200), $"round {round}");
            }
            catch (IOException e) when (e.InnerException is null)
            {
                // "Connection closed before a status line": the clean end of stream.
            }

            Assert.That(client.ReadToEnd(), Is.Empty, $"round {round}: end of stream, not a reset");
            client.Socket.Shutdown(SocketShutdown.Send);
            Assert.That(stopping.Wait(TimeSpan.FromSeconds(30)), Is.True);
        }
    }
}
