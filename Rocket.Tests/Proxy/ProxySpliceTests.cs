using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using RocketOwin.Methods.Proxy.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

/// <summary>Large length-delimited bodies moved with splice(2) on Linux (<see cref="SpliceRelay"/>), against the copy path.</summary>
public class ProxySpliceTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    /// <summary>Answers every request with <paramref name="body"/> under its Content-Length, in uneven pieces, keeping the connection.</summary>
    private static RawUpstream Serving(byte[] body) => new(async (s, _) =>
    {
        do
        {
            await RawUpstream.SendAsync(s, $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
            for (var i = 0; i < body.Length;)
            {
                var piece = Math.Min(body.Length - i, 1000 + (i % 70_000));
                await s.SendAsync(body.AsMemory(i, piece));
                i += piece;
            }
        }
        while (await RawUpstream.ReadHeadAsync(s) is { Length: > 0 });
    });

    /// <summary>Open descriptors of one kind ("socket", "pipe") in this process.</summary>
    private static int Descriptors(string kind) => Directory.GetFiles("/proc/self/fd").Count(f =>
    {
        try
        {
            return new FileInfo(f).LinkTarget?.StartsWith(kind + ":", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false; // closed meanwhile
        }
    });

    [TestCase(300 * 1024, true)]
    [TestCase((1024 * 1024) + 1, true)]
    [TestCase((5 * 1024 * 1024) + 123, true)]
    [TestCase((5 * 1024 * 1024) + 123, false)]
    public void BodiesOfSeveralSizesArriveIntactAndTheConnectionsStayUsable(int size, bool splice)
    {
        var body = RandomNumberGenerator.GetBytes(size);
        using var upstream = Serving(body);
        using var proxy = ProxyServer.Start(upstream.Url, ("splice", splice));
        using var client = proxy.Connect();
        var before = SpliceRelay.BodiesSpliced;
        for (var i = 0; i < 2; i++)
        {
            client.Send(Get);
            var response = client.ReadResponse();
            Assert.That(response.Header("Content-Length"), Is.EqualTo(size.ToString()));
            Assert.That(SHA256.HashData(response.Body), Is.EqualTo(SHA256.HashData(body)));
        }

        Assert.That(upstream.Connections, Is.EqualTo(1), "the upstream connection went back to its pool after each body");
        var spliced = SpliceRelay.BodiesSpliced - before;
        Assert.That(spliced, OperatingSystem.IsLinux() && splice ? Is.EqualTo(2) : Is.Zero);
    }

    [Test]
    public void ATlsClientGetsALargeBodyThroughTheCopyPath()
    {
        var body = RandomNumberGenerator.GetBytes((2 * 1024 * 1024) + 5);
        using var upstream = Serving(body);
        using var certificates = new TestCertificates();
        using var proxy = new TestServer(
            new RocketOwin.Methods.Proxy.ProxyWorker(),
            new AppInfo { ["upstream"] = upstream.Url, ["splice"] = true },
            interfaces: [("127.0.0.1", 0, certificates.KeyFile, certificates.CertificateFile)]);
        using var tcp = new TcpClient();
        tcp.Connect(proxy.Server.BoundEndPoints[0]);
        tcp.ReceiveTimeout = 10_000;
        using var tls = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        tls.AuthenticateAsClient("localhost");
        var before = SpliceRelay.BodiesSpliced;
        tls.Write(Encoding.ASCII.GetBytes(Get));
        var received = new MemoryStream();
        var buffer = new byte[65536];
        while (HeadLength(received) is var head && (head < 0 || received.Length - head < body.Length))
        {
            var n = tls.Read(buffer);
            Assert.That(n, Is.GreaterThan(0), "the proxy ended the connection early");
            received.Write(buffer, 0, n);
        }

        Assert.That(SHA256.HashData(received.ToArray().AsSpan(HeadLength(received))), Is.EqualTo(SHA256.HashData(body)));
        Assert.That(SpliceRelay.BodiesSpliced, Is.EqualTo(before), "encrypted bytes cannot bypass the process");
    }

    [Test]
    public void AClientReadingSlowlyThroughASmallReceiveBufferGetsTheWholeBody()
    {
        var body = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        using var upstream = Serving(body);
        using var proxy = ProxyServer.Start(upstream.Url, ("splice", true));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        socket.Connect("127.0.0.1", proxy.Port);
        socket.ReceiveTimeout = 10_000;
        socket.Send(Encoding.ASCII.GetBytes(Get));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        var before = SpliceRelay.BodiesSpliced;
        for (var reads = 1; HeadLength(received) is var head && (head < 0 || received.Length - head < body.Length); reads++)
        {
            var n = socket.Receive(buffer);
            Assert.That(n, Is.GreaterThan(0), "the proxy ended the connection early");
            received.Write(buffer, 0, n);
            if (reads % 64 == 0)
            {
                Thread.Sleep(1); // keeps the proxy's side of the socket full now and then
            }
        }

        Assert.That(SHA256.HashData(received.ToArray().AsSpan(HeadLength(received))), Is.EqualTo(SHA256.HashData(body)));
        Assert.That(SpliceRelay.BodiesSpliced - before, OperatingSystem.IsLinux() ? Is.EqualTo(1) : Is.Zero);
    }

    private static int HeadLength(MemoryStream received)
    {
        var at = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length).IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return at < 0 ? -1 : at + 4;
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AnUpstreamBodyShorterThanItsContentLengthEndsTheClientConnectionAsTheCopyPathDoes(bool splice)
    {
        var sent = RandomNumberGenerator.GetBytes(600 * 1024);
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, $"HTTP/1.1 200 OK\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n");
            await s.SendAsync(sent);
            s.Shutdown(SocketShutdown.Both);
        });
        using var proxy = ProxyServer.Start(upstream.Url, ("splice", splice));
        using var client = proxy.Connect();
        client.Send(Get);
        Assert.That(() => client.ReadResponse(), Throws.InstanceOf<IOException>(), "the client never takes the cut body for a whole one");
        using var next = proxy.Connect();
        next.Send(Get);
        Assert.That(() => next.ReadResponse(), Throws.InstanceOf<IOException>(), "the proxy still serves (on a new upstream connection)");
        Assert.That(upstream.Connections, Is.EqualTo(2));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AClientVanishingMidBodyFreesThePipeAndTheUpstreamConnection(bool upstreamStalls)
    {
        var chunk = RandomNumberGenerator.GetBytes(512 * 1024);
        var closedByProxy = 0;
        using var upstream = new RawUpstream(async (s, _) =>
        {
            await RawUpstream.SendAsync(s, $"HTTP/1.1 200 OK\r\nContent-Length: {64L * 1024 * 1024}\r\n\r\n");
            try
            {
                await s.SendAsync(chunk);
                if (upstreamStalls)
                {
                    await RawUpstream.WaitForCloseAsync(s); // sends nothing more: the proxy waits on an empty upstream
                }
                else
                {
                    while (true)
                    {
                        await s.SendAsync(chunk); // the proxy is busy pushing into the client's socket
                    }
                }
            }
            catch (SocketException)
            {
            }

            s.Dispose(); // so the count of sockets measures the proxy's alone
            Interlocked.Increment(ref closedByProxy);
        });
        using var proxy = ProxyServer.Start(upstream.Url, ("splice", true));

        void VanishMidBody()
        {
            using var client = proxy.Connect();
            client.Send(Get);
            Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 200 OK"));
            client.ReadExactly(256 * 1024);
            client.Socket.LingerState = new LingerOption(true, 0); // a reset, as a vanished client leaves it
        }

        VanishMidBody(); // the first one leaves a pipe in the pool
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref closedByProxy) < 1 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        var sockets = Descriptors("socket");
        var pipes = Descriptors("pipe") - (2 * SplicePipe.IdleCount);
        var spliced = SpliceRelay.BodiesSpliced;
        for (var i = 0; i < 5; i++)
        {
            VanishMidBody();
        }

        while (Volatile.Read(ref closedByProxy) < 6 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        Assert.That(Volatile.Read(ref closedByProxy), Is.EqualTo(6), "each upstream connection was closed");
        while ((Descriptors("socket") > sockets || Descriptors("pipe") - (2 * SplicePipe.IdleCount) > pipes) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        Assert.That(Descriptors("socket"), Is.LessThanOrEqualTo(sockets), "no socket left behind (the proxy's, both sides)");
        Assert.That(Descriptors("pipe") - (2 * SplicePipe.IdleCount), Is.LessThanOrEqualTo(pipes), "every pipe is closed or idle in the pool");
        Assert.That(SplicePipe.IdleCount, Is.LessThanOrEqualTo(6), "the pool holds at most the pipes of the bodies that were in flight at once");
        if (OperatingSystem.IsLinux())
        {
            Assert.That(SpliceRelay.BodiesSpliced - spliced, Is.EqualTo(5));
        }
    }
}
