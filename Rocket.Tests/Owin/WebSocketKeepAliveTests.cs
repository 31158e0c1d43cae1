using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RocketOwin.Methods.Owin;
using RocketOwin.Tests.Host;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>
/// Keep-alive pongs (RFC 6455 §5.5.3, unsolicited) sent by the server's once-a-second tick instead of a runtime timer per
/// socket: their timing, their absence when turned off, and that they never land inside a frame the application sends.
/// </summary>
public class WebSocketKeepAliveTests
{
    private static readonly Dictionary<string, object> OneSecond = new() { ["websocket.KeepAliveInterval"] = TimeSpan.FromSeconds(1) };

    [TestCase("appInfo")]
    [TestCase("accept option")]
    public void AQuietSocketGetsAnUnsolicitedEmptyPongAboutEveryInterval(string setBy)
    {
        var appInfo = new AppInfo { ["websocket_keep_alive"] = setBy == "appInfo" ? TimeSpan.FromSeconds(1) : TimeSpan.Zero };
        using var server = Serve(EchoApp(setBy == "appInfo" ? null : OneSecond), appInfo);
        using var client = server.Connect();
        Handshake(client);
        var opened = Stopwatch.StartNew();
        var arrivals = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var (opcode, payload) = ReadFrame(client);
            arrivals.Add(opened.Elapsed.TotalSeconds);
            Assert.That(opcode, Is.EqualTo(0xA), "a pong");
            Assert.That(payload, Is.Empty);
        }

        // The interval, up to a second late (the tick); generous bounds on a loaded machine.
        Assert.That(arrivals[0], Is.GreaterThan(0.9), string.Join(", ", arrivals));
        Assert.That(arrivals[1] - arrivals[0], Is.GreaterThan(0.9), string.Join(", ", arrivals));
        Assert.That(arrivals[2] - arrivals[1], Is.GreaterThan(0.9), string.Join(", ", arrivals));
        Assert.That(arrivals[2], Is.LessThan(9), string.Join(", ", arrivals));

        // Still a working socket: a ping is answered in turn (an unsolicited pong may come first).
        client.Send(Frame(0x9, "x"u8.ToArray()));
        byte[] answer = [];
        for (var i = 0; i < 5 && answer.Length == 0; i++)
        {
            (_, answer) = ReadFrame(client);
        }

        Assert.That(answer, Is.EqualTo("x"u8.ToArray()));
    }

    [Test]
    public void WithKeepAliveZeroAQuietSocketGetsNothing()
    {
        using var server = Serve(EchoApp(), new AppInfo { ["websocket_keep_alive"] = TimeSpan.Zero });
        using var client = server.Connect();
        Handshake(client);
        Assert.That(client.Socket.Poll(TimeSpan.FromSeconds(2.5), System.Net.Sockets.SelectMode.SelectRead), Is.False, "nothing arrives");
    }

    /// <summary>
    /// The application sends 1 MiB messages with pauses longer and shorter than the 1 s interval, to a client that
    /// reads slowly (so the server's writes wait on a full socket buffer while pongs are due): every message arrives
    /// intact, so no pong went out inside a frame (the client would fail the connection with a protocol error).
    /// </summary>
    [Test]
    public async Task LargeMessagesSentWhilePongsAreDueArriveIntact()
    {
        const int Messages = 8;
        const int Size = 1024 * 1024;
        var pauses = new[] { 0, 1300, 200, 1700, 0, 1100, 600, 0 };
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(OneSecond, async ws =>
            {
                var send = (WebSocketSendAsync)ws["websocket.SendAsync"];
                var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
                var cancel = (CancellationToken)ws["websocket.CallCancelled"];
                for (var i = 0; i < Messages; i++)
                {
                    await Task.Delay(pauses[i], cancel);
                    await send(new ArraySegment<byte>(Pattern(i, Size)), 0x2, true, cancel);
                }

                await receive(new ArraySegment<byte>(new byte[16]), cancel); // the client's close
            });
            return Task.CompletedTask;
        });
        using var client = await ConnectAsync(server.WsUri());
        for (var i = 0; i < Messages; i++)
        {
            if (i % 2 == 0)
            {
                await Task.Delay(1500); // the server's send waits on a full buffer meanwhile
            }

            var (type, data) = await ReceiveMessageAsync(client);
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary), $"message {i}");
            Assert.That(data, Is.EqualTo(Pattern(i, Size)), $"message {i}");
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.That(client.State, Is.EqualTo(WebSocketState.Closed));
    }

    /// <summary>Over TLS a pong is a TLS record written asynchronously: it still arrives whole, and the socket still echoes.</summary>
    [Test]
    public void PongsAlsoGoOutOverTls()
    {
        _ = typeof(OwinWorker); // the method is found among the assemblies loaded in the process
        var dir = Directory.CreateTempSubdirectory("rocket-ws-tls-");
        try
        {
            using var rsa = RSA.Create(2048);
            using var certificate = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var key = Path.Combine(dir.FullName, "key.pem");
            var cert = Path.Combine(dir.FullName, "cert.pem");
            File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(cert, certificate.ExportCertificatePem());
            var server = new Rocket(("127.0.0.1", 0, key, cert), "owin", new AppInfo { ["owin_app"] = EchoApp(OneSecond) }, minThreads: 2, handleSignals: false);
            server.Start(background: true);
            try
            {
                using var tcp = new TcpClient();
                tcp.Connect(server.BoundEndPoints[0]);
                tcp.ReceiveTimeout = tcp.SendTimeout = 10_000;
                using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
                ssl.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = (_, _, _, _) => true });
                ssl.Write(Encoding.ASCII.GetBytes("GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
                var head = new StringBuilder();
                while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
                {
                    head.Append((char)ssl.ReadByte());
                }

                Assert.That(head.ToString(), Does.StartWith("HTTP/1.1 101 "));
                var opened = Stopwatch.StartNew();
                var frame = new byte[2];
                for (var i = 0; i < 2; i++)
                {
                    ssl.ReadExactly(frame);
                    Assert.That(frame, Is.EqualTo(new byte[] { 0x8A, 0x00 }), $"pong {i}");
                }

                Assert.That(opened.Elapsed.TotalSeconds, Is.GreaterThan(1.8));
                ssl.Write(Frame(0x1, "tls"u8.ToArray()));
                do
                {
                    ssl.ReadExactly(frame);
                }
                while (frame[0] == 0x8A && frame[1] == 0);

                Assert.That(frame, Is.EqualTo(new byte[] { 0x81, 3 }), "the echo's header");
                var payload = new byte[3];
                ssl.ReadExactly(payload);
                Assert.That(payload, Is.EqualTo("tls"u8.ToArray()));
            }
            finally
            {
                server.Stop();
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// With the default websocket_keep_alive (30 s) the BCL's WebSocket used to hold a runtime timer per socket, which
    /// started the runtime's ".NET Timer" thread; the monitor's tick sends the pongs now.
    /// </summary>
    [Test]
    [NonParallelizable]
    public async Task AnOpenWebSocketWithDefaultSettingsStartsNoRuntimeTimerThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Thread names are read from /proc.");
        }

        var plugins = DotNetCli.NewTempDirectory("rocket-websocket-timer");
        try
        {
            DotNetCli.CopyOwinPlugin(plugins);
            var app = typeof(WebSocketEchoStartup).Assembly.Location;
            using var rocket = RocketProcess.StartOnOneCore($"--plugins \"{plugins}\" --method owin --bind 127.0.0.1:0 --min-threads 4 --app \"{app}\" --set startup={typeof(WebSocketEchoStartup).FullName}");
            var uri = new Uri($"ws://127.0.0.1:{rocket.WaitForPort()}/ws");
            var sockets = new List<ClientWebSocket>();
            try
            {
                for (var i = 0; i < 20; i++)
                {
                    var socket = await ConnectAsync(uri);
                    sockets.Add(socket);
                    await SendTextAsync(socket, "hello");
                    Assert.That((await ReceiveMessageAsync(socket)).Data, Has.Length.EqualTo(5));
                }

                var names = rocket.ThreadNames();
                Assert.That(names, Has.None.EqualTo(".NET Timer"), string.Join(", ", names));
            }
            finally
            {
                foreach (var socket in sockets)
                {
                    socket.Abort();
                    socket.Dispose();
                }
            }
        }
        finally
        {
            DotNetCli.DeleteQuietly(plugins);
        }
    }

    private static byte[] Pattern(int message, int size)
    {
        var data = new byte[size];
        for (var i = 0; i < size; i++)
        {
            data[i] = (byte)((i * 31) + message);
        }

        return data;
    }
}
