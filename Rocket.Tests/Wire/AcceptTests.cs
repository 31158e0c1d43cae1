using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// Accepting (on the runtime's engine or Rocket's loop: the test command runs this class with both): a listen queue full of
/// connections is taken in rounds (a bounded number of accepts at a time, the rest from the monitor thread); a burst of
/// connection-per-request clients is answered and logged each with its own address; descriptor numbers reused by short
/// connections never mix up connections; Stop during a burst ends promptly. SocketActivationTests check that Stop leaves a
/// socket Rocket was given listening.
/// </summary>
public class AcceptTests
{
    /// <summary>More than the listener accepts in one round (32), so the rest are taken after it yields.</summary>
    private const int Queued = 100;

    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [OneTimeSetUp]
    public void Logging() => TestLogging.EnsureConfigured();

    [Test]
    public void EveryConnectionAlreadyWaitingInTheListenQueueAtStartIsServed()
    {
        var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(Queued * 2);
        var endPoint = (IPEndPoint)listening.LocalEndPoint!;
        var clients = new List<RawClient>();
        try
        {
            // Connected and their requests sent before anything accepts: every accept at Start completes at once.
            for (var i = 0; i < Queued; i++)
            {
                var client = new RawClient(endPoint);
                clients.Add(client);
                client.Send(Get);
            }

            using var server = new TestServer(Apps.Hello(), interfaces: [ListenInterface.FromListeningSocket(listening)]);
            foreach (var client in clients)
            {
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            }

            using var later = new RawClient(endPoint);
            later.Send(Get);
            Assert.That(later.ReadResponse().StatusCode, Is.EqualTo(200), "accepting goes on after the queue was emptied");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            listening.Dispose();
        }
    }

    [Test]
    public async Task ABurstOfConnectionPerRequestClientsFromFiftyAddressesIsAnsweredAndLoggedEachWithItsOwnAddress()
    {
        const int Connections = 500;
        TestLogging.Memory.Logs.Clear();
        using var server = new TestServer(EchoPathAndPeer());

        var answers = await BurstAsync(server.EndPoint, Connections, parallel: 16, i => (IPAddress.Parse($"127.0.0.{2 + (i % 50)}"), $"/c{i}"));

        foreach (var (i, local, status, body) in answers)
        {
            Assert.That((status, body), Is.EqualTo(("HTTP/1.1 200 OK", $"/c{i} {local}")), $"connection {i}");
        }

        Assert.That(Wire.WaitUntil(() => RequestLines().Length >= Connections, TimeSpan.FromSeconds(20)), Is.True, "not every request was logged");
        var logged = RequestLines().ToHashSet();
        foreach (var (i, local, _, _) in answers)
        {
            var address = ((IPEndPoint)local).Address;
            Assert.That(logged.Any(l => l.StartsWith($"INFO Rocket.Requests {address} - \"GET /c{i} HTTP/1.1\" - 200 ", StringComparison.Ordinal)), Is.True, $"no log line for /c{i} from {address}");
        }
    }

    [Test]
    public async Task ShortConnectionsReusingDescriptorNumbersWhileASlowOneWaitsAreEachAnsweredWithTheirOwnResponse()
    {
        using var server = new TestServer(EchoPathAndPeer());
        using var slow = server.Connect();
        slow.Send("GET /slow HTTP/1.1\r\nHost: x\r\n"); // the head's end comes after the burst: registered and waiting all along

        var answers = await BurstAsync(server.EndPoint, 300, parallel: 8, i => (IPAddress.Loopback, $"/short{i}"));
        foreach (var (i, local, status, body) in answers)
        {
            Assert.That((status, body), Is.EqualTo(("HTTP/1.1 200 OK", $"/short{i} {local}")), $"connection {i}");
        }

        slow.Send("\r\n");
        var response = slow.ReadResponse();
        Assert.That(response.BodyText, Is.EqualTo($"/slow {slow.Socket.LocalEndPoint}"));
    }

    [Test]
    public async Task StopDuringABurstOfConnectionsEndsPromptlyAndEveryClientGetsAnAnswerOrARefusal()
    {
        var server = new TestServer(Apps.Hello());
        var endPoint = server.EndPoint;
        var answered = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var n = 0; n < 5_000 && !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var (_, status, _) = OneShot(endPoint, IPAddress.Loopback, "/");
                    Assert.That(status, Is.EqualTo("HTTP/1.1 200 OK").Or.Empty); // empty: closed unanswered while stopping
                    Interlocked.Increment(ref answered);
                }
                catch (SocketException)
                {
                    // refused or reset once the listener is closed
                }
            }
        })).ToArray();

        Assert.That(Wire.WaitUntil(() => Volatile.Read(ref answered) >= 100, TimeSpan.FromSeconds(20)), Is.True, "the burst never got going");
        var stopping = Stopwatch.StartNew();
        server.Dispose();
        stopping.Stop();
        stop.Cancel();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));

        // A stuck accept loop costs Stop its 5 s wait (then the socket is closed under it); a hang never returns.
        Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(4.5)), "Stop waited for the accept loop");
        Assert.Throws<SocketException>(() => OneShot(endPoint, IPAddress.Loopback, "/"), "still accepting after Stop");
    }

    /// <summary>Answers with the request's path and the connection's remote end point as the server sees it.</summary>
    private static LambdaWorker EchoPathAndPeer() => new(c =>
    {
        c.Response.Write(Encoding.ASCII.GetBytes($"{c.Request.Path} {c.Connection.RemoteEndPoint}"));
        return ValueTask.CompletedTask;
    });

    private static string[] RequestLines() => TestLogging.Memory.Logs.ToArray().Where(l => l.StartsWith("INFO Rocket.Requests", StringComparison.Ordinal)).ToArray();

    /// <summary>
    /// <paramref name="count"/> one-request connections from <paramref name="parallel"/> threads of their own (not the thread
    /// pool's: blocked clients there would starve whatever the server runs on it).
    /// </summary>
    private static Task<List<(int I, EndPoint Local, string Status, string Body)>> BurstAsync(IPEndPoint server, int count, int parallel, Func<int, (IPAddress From, string Path)> request)
    {
        var answers = new List<(int, EndPoint, string, string)>();
        var failures = new List<Exception>();
        void Run(int first)
        {
            try
            {
                for (var i = first; i < count; i += parallel)
                {
                    var (from, path) = request(i);
                    var (local, status, body) = OneShot(server, from, path);
                    lock (answers)
                    {
                        answers.Add((i, local, status, body));
                    }
                }
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add(e);
                }
            }
        }

        var threads = Enumerable.Range(0, parallel).Select(first => new Thread(() => Run(first)) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        Assert.That(threads.TrueForAll(t => t.Join(TimeSpan.FromSeconds(60))), Is.True, "the burst did not end");
        Assert.That(failures, Is.Empty);
        Assert.That(answers, Has.Count.EqualTo(count));
        return Task.FromResult(answers);
    }

    /// <summary>One request on a connection of its own from <paramref name="from"/> (Connection: close): status line and body.</summary>
    private static (EndPoint Local, string Status, string Body) OneShot(IPEndPoint server, IPAddress from, string path)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Bind(new IPEndPoint(from, 0));
        socket.Connect(server);
        var local = socket.LocalEndPoint!;
        socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return headEnd < 0 ? (local, string.Empty, string.Empty) : (local, text[..text.IndexOf("\r\n", StringComparison.Ordinal)], text[(headEnd + 4)..]);
    }
}
