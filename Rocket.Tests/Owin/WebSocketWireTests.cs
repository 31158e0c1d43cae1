using System.Net.WebSockets;
using System.Text;
using Microsoft.Owin;
using Owin;
using RocketOwin.Methods.Owin;
using RocketOwin.Tests.Proxy;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using OpaqueUpgrade = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;

/// <summary>Exact bytes for the handshake and for frames a client must not send; opaque upgrades; the Katana surface; the proxy in front.</summary>
public class WebSocketWireTests
{
    private const string Upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\n";

    [Test]
    public void TheHandshakeIsAnsweredAsRfc6455SectionOnePointThreeShows()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        var headers = Handshake(client);
        Assert.That(headers, Does.Contain("Upgrade: websocket"));
        Assert.That(headers, Does.Contain("Connection: Upgrade"));
        Assert.That(headers, Does.Contain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        Assert.That(headers.Any(h => h.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase) || h.StartsWith("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase)), Is.False);
    }

    [Test]
    public void AnUnsupportedVersionGets426NamingVersion13()
    {
        var called = false;
        using var server = Serve(env =>
        {
            called = true;
            return Task.CompletedTask;
        });
        var response = OwinTestSupport.Get(server, "/ws", Upgrade + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 426 Upgrade Required"));
        Assert.That(response.Header("Sec-WebSocket-Version"), Is.EqualTo("13"));
        Assert.That(called, Is.False);
    }

    [TestCase("")]
    [TestCase("Sec-WebSocket-Key: too-short\r\n")]
    public void AMissingOrMalformedKeyGets400(string key)
    {
        using var server = Serve(EchoApp());
        var response = OwinTestSupport.Get(server, "/ws", Upgrade + "Sec-WebSocket-Version: 13\r\n" + key);
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
    }

    [Test]
    public void APostAskingForAWebSocketGets400()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        client.Send("POST /ws HTTP/1.1\r\nHost: x\r\n" + Upgrade + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 400 Bad Request"));
    }

    [Test]
    public void APingIsAnsweredWithAPongCarryingItsPayload()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        Handshake(client);
        client.Send(Frame(0x9, "are you there"u8.ToArray()));
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0xA));
        Assert.That(Encoding.UTF8.GetString(payload), Is.EqualTo("are you there"));
    }

    [Test]
    public void AnUnmaskedClientFrameClosesWith1002()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        Handshake(client);
        client.Send(Frame(0x1, "hello"u8.ToArray(), masked: false));
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0x8));
        Assert.That(CloseStatus(payload), Is.EqualTo(1002));
    }

    [Test]
    public void AControlFrameOver125BytesClosesWith1002()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        Handshake(client);
        client.Send(Frame(0x9, new byte[126]));
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0x8));
        Assert.That(CloseStatus(payload), Is.EqualTo(1002));
    }

    [Test]
    public void InvalidUtf8InATextMessageClosesWith1007()
    {
        using var server = Serve(EchoApp());
        using var client = server.Connect();
        Handshake(client);
        client.Send(Frame(0x1, [(byte)'o', (byte)'k', 0xC3, 0x28]));
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0x8));
        Assert.That(CloseStatus(payload), Is.EqualTo(1007));
    }

    [Test]
    public void AMessageOverTheMaximumSizeClosesWith1009EvenWhenFragmented()
    {
        using var server = Serve(EchoApp(), new AppInfo { ["websocket_max_message_size"] = 1000 });
        using var client = server.Connect();
        Handshake(client);
        client.Send(Frame(0x2, new byte[1000]));
        Assert.That(ReadFrame(client).Payload, Has.Length.EqualTo(1000), "a message of exactly the maximum is served");

        client.Send(Frame(0x2, new byte[600], fin: false));
        client.Send(Frame(0x0, new byte[600], fin: true));
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0x8));
        Assert.That(CloseStatus(payload), Is.EqualTo(1009));
    }

    [Test]
    public void AClientThatNeverAnswersTheServersCloseIsCutAfterTheTwoSecondCloseHandshake()
    {
        // The WebSocketFunc returns without closing: the server sends its close and waits (bounded) for the client's.
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, _ => Task.CompletedTask);
            return Task.CompletedTask;
        });
        using var client = server.Connect();
        Handshake(client);
        var (opcode, payload) = ReadFrame(client);
        Assert.That(opcode, Is.EqualTo(0x8));
        Assert.That(CloseStatus(payload), Is.EqualTo(1000));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(RocketOwin.Tests.Wire.Wire.WaitUntil(() => server.Server.ConnectionCount == 0, WaitLimit), Is.True, "the connection outlived the close handshake's timeout");
        TestContext.Out.WriteLine($"closed {clock.Elapsed.TotalSeconds:0.0} s after the server's close frame");
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(1)), "closed before the client had its time to answer");
        Assert.That(RocketOwin.Tests.Wire.Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void AnOpaqueUpgradeHandsTheApplicationTheRawStream()
    {
        using var server = Serve(env =>
        {
            Assert.That(env.ContainsKey("websocket.Accept"), Is.False, "not a WebSocket handshake");
            ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["Upgrade"] = ["echo/1"];
            ((OpaqueUpgrade)env["opaque.Upgrade"])(new Dictionary<string, object>(), async opaque =>
            {
                Assert.That(opaque["opaque.Version"], Is.EqualTo("1.0"));
                Assert.That(opaque["opaque.CallCancelled"], Is.InstanceOf<CancellationToken>());
                var stream = (Stream)opaque["opaque.Stream"];
                var buffer = new byte[64];
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, n));
                }
            });
            return Task.CompletedTask;
        });
        using var client = server.Connect();
        client.Send("GET /raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\nearly");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
        var headers = new List<string>();
        string? line;
        while (!string.IsNullOrEmpty(line = client.ReadLine()))
        {
            headers.Add(line);
        }

        Assert.That(headers, Does.Contain("Upgrade: echo/1").And.Contain("Connection: Upgrade"));
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(5)), Is.EqualTo("early"));
        client.Send("more");
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(4)), Is.EqualTo("more"));
    }

    /// <summary>
    /// The upgraded socket is non-blocking (so no read or write ever holds a thread by itself); an application that reads
    /// and writes synchronously still waits for the client's bytes and for room to send 4 MiB to a slow reader.
    /// </summary>
    [Test]
    public void AnOpaqueStreamReadAndWrittenSynchronouslyWaitsForTheClient()
    {
        const int Big = 4 * 1024 * 1024;
        using var server = Serve(env =>
        {
            ((OpaqueUpgrade)env["opaque.Upgrade"])(new Dictionary<string, object>(), opaque => Task.Run(() =>
            {
                var stream = (Stream)opaque["opaque.Stream"];
                var buffer = new byte[4];
                stream.ReadExactly(buffer);
                stream.Write(new byte[Big]);
                stream.Write(buffer);
            }));
            return Task.CompletedTask;
        });
        using var client = server.Connect();
        client.Send("GET /raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\n");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
        while (!string.IsNullOrEmpty(client.ReadLine()))
        {
        }

        // The server's read finds nothing at first and must wait for these bytes.
        Thread.Sleep(200);
        client.Send("ping");
        Thread.Sleep(200);
        Assert.That(client.ReadExactly(Big), Has.Length.EqualTo(Big));
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(4)), Is.EqualTo("ping"));
    }

    [Test]
    public void AnApplicationThatDoesNotAcceptAnswersTheUpgradeRequestAsPlainHttp()
    {
        using var server = Serve(env => OwinTestSupport.Text(env, "no sockets here"));
        var response = OwinTestSupport.Get(server, "/ws", Upgrade + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
        Assert.That(response.StatusCode, Is.EqualTo(200));
        Assert.That(response.BodyText, Is.EqualTo("no sockets here"));
    }

    [Test]
    public async Task AKatanaStartupAcceptsThroughIOwinContextAndUsesTheBclWebSocket()
    {
        var sending = new List<string>();
        using var server = OwinTestSupport.Serve(app =>
        {
            app.UseWebSocketWrapper();
            app.Use(async (context, next) =>
            {
                context.Response.OnSendingHeaders(_ => sending.Add(context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)), context);
                await next();
            });
            app.Run(context =>
            {
                var accept = context.Get<WebSocketAccept>("websocket.Accept");
                if (accept is null)
                {
                    context.Response.StatusCode = 400;
                    return context.Response.WriteAsync("WebSocket only");
                }

                accept(null!, async ws =>
                {
                    var socket = ((WebSocketContext)ws["System.Net.WebSockets.WebSocketContext"]).WebSocket;
                    var buffer = new byte[1024];
                    var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
                    var reply = Encoding.UTF8.GetBytes(context.Request.Path + ": " + Encoding.UTF8.GetString(buffer, 0, result.Count));
                    await socket.SendAsync(new ArraySegment<byte>(reply), WebSocketMessageType.Text, true, CancellationToken.None);
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                });
                return Task.CompletedTask;
            });
        });
        Assert.That(OwinTestSupport.Get(server, "/echo").StatusCode, Is.EqualTo(400));

        using var client = await ConnectAsync(server.WsUri("/echo"));
        await SendTextAsync(client, "hi");
        Assert.That(Encoding.UTF8.GetString((await ReceiveMessageAsync(client)).Data), Is.EqualTo("/echo: hi"));
        Assert.That((await ReceiveMessageAsync(client)).Type, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(sending, Is.EqualTo(new[] { "400", "101" }), "server.OnSendingHeaders runs for the 101 too");
    }

    [Test]
    public async Task AnOwinWebSocketWorksThroughTheProxyMethod()
    {
        using var upstream = Serve(EchoApp(new Dictionary<string, object> { ["websocket.SubProtocol"] = "chat" }));
        using var proxy = ProxyServer.Start(upstream.Url());
        using var client = await ConnectAsync(proxy.WsUri("/room"), "chat");
        Assert.That(client.SubProtocol, Is.EqualTo("chat"));
        var big = new byte[200_000];
        new Random(3).NextBytes(big);
        await client.SendAsync(big, WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.That((await ReceiveMessageAsync(client)).Data, Is.EqualTo(big));
        await SendTextAsync(client, "through the proxy");
        Assert.That(Encoding.UTF8.GetString((await ReceiveMessageAsync(client)).Data), Is.EqualTo("through the proxy"));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.That(client.CloseStatusDescription, Is.EqualTo("done"));
    }
}
