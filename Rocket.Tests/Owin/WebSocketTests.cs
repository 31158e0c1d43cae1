using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>The OWIN WebSocket extension against the BCL's ClientWebSocket over real sockets.</summary>
public class WebSocketTests
{
    [Test]
    public async Task TextAndBinaryMessagesFromEmptyToOneMebibyteAreEchoed()
    {
        using var server = Serve(EchoApp());
        using var client = await ConnectAsync(server.WsUri());
        var random = new Random(12);
        foreach (var size in new[] { 0, 1, 125, 126, 65535, 65536, 1024 * 1024 })
        {
            var binary = new byte[size];
            random.NextBytes(binary);
            await client.SendAsync(binary, WebSocketMessageType.Binary, true, CancellationToken.None);
            var (type, data) = await ReceiveMessageAsync(client);
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary), $"binary {size}");
            Assert.That(data, Is.EqualTo(binary), $"binary {size}");

            var text = new string('é', size / 2) + (size % 2 == 1 ? "x" : string.Empty);
            await SendTextAsync(client, text);
            (type, data) = await ReceiveMessageAsync(client);
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Text), $"text {size}");
            Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo(text), $"text {size}");
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.That(client.State, Is.EqualTo(WebSocketState.Closed));
    }

    [Test]
    public async Task FragmentedSendsArriveAsOneMessage()
    {
        using var server = Serve(EchoApp());
        using var client = await ConnectAsync(server.WsUri());
        await client.SendAsync("Hel"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync("lo, "u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync("World!"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var (type, data) = await ReceiveMessageAsync(client);
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Text));
        Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo("Hello, World!"));
    }

    [Test]
    public async Task TheWebSocketEnvironmentCarriesTheExtensionKeysAndTheBclContext()
    {
        var seen = new TaskCompletionSource<IDictionary<string, object>>(TaskCreationOptions.RunContinuationsAsynchronously);
        IDictionary<string, object>? requestEnv = null;
        AppFunc echo = EchoApp(onSocket: ws => seen.TrySetResult(new Dictionary<string, object>(ws)));
        using var server = Serve(env =>
        {
            requestEnv = new Dictionary<string, object>(env.Where(p => p.Key.StartsWith("websocket.", StringComparison.Ordinal) || p.Key.StartsWith("opaque.", StringComparison.Ordinal)));
            return echo(env);
        });
        using var client = await ConnectAsync(server.WsUri("/chat?room=1"), "chat");
        var ws = await seen.Task.WaitAsync(WaitLimit);

        Assert.That(requestEnv!.Keys, Is.EquivalentTo(new[] { "websocket.Accept", "opaque.Upgrade" }));
        Assert.That(ws["websocket.Version"], Is.EqualTo("1.0"));
        Assert.That(ws["websocket.SendAsync"], Is.InstanceOf<WebSocketSendAsync>());
        Assert.That(ws["websocket.ReceiveAsync"], Is.InstanceOf<Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>>());
        Assert.That(ws["websocket.CloseAsync"], Is.InstanceOf<WebSocketCloseAsync>());
        Assert.That(ws["websocket.CallCancelled"], Is.InstanceOf<CancellationToken>());
        var context = (WebSocketContext)ws["System.Net.WebSockets.WebSocketContext"];
        Assert.That(context.RequestUri, Is.EqualTo(new Uri($"ws://127.0.0.1:{server.Port}/chat?room=1")));
        Assert.That(context.SecWebSocketVersion, Is.EqualTo("13"));
        Assert.That(context.SecWebSocketProtocols, Is.EqualTo(new[] { "chat" }));
        Assert.That(context.IsLocal, Is.True);
        Assert.That(context.WebSocket, Is.SameAs(ws["System.Net.WebSockets.WebSocket"]));
    }

    [Test]
    public async Task ASubProtocolTheApplicationChoosesIsAnswered()
    {
        using var server = Serve(EchoApp(new Dictionary<string, object> { ["websocket.SubProtocol"] = "v2.chat" }));
        using var client = await ConnectAsync(server.WsUri(), "v1.chat", "v2.chat");
        Assert.That(client.SubProtocol, Is.EqualTo("v2.chat"));
        await SendTextAsync(client, "hi");
        Assert.That(Encoding.UTF8.GetString((await ReceiveMessageAsync(client)).Data), Is.EqualTo("hi"));
    }

    [Test]
    public async Task ASubProtocolTheClientDidNotOfferFailsTheAcceptWith500()
    {
        using var server = Serve(EchoApp(new Dictionary<string, object> { ["websocket.SubProtocol"] = "other" }));
        var e = Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(server.WsUri(), "chat"));
        Assert.That(e!.Message, Does.Contain("500"));
    }

    [Test]
    public async Task ClientInitiatedCloseReachesTheApplicationWithStatusAndDescription()
    {
        var closed = new TaskCompletionSource<(int, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
            {
                var receive = (Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>)ws["websocket.ReceiveAsync"];
                var result = await receive(new ArraySegment<byte>(new byte[16]), CancellationToken.None);
                closed.TrySetResult(result.Item1 == 0x8 ? ((int)ws["websocket.ClientCloseStatus"], (string)ws["websocket.ClientCloseDescription"]) : (-1, "not a close"));
                await ((WebSocketCloseAsync)ws["websocket.CloseAsync"])(1000, "bye too", CancellationToken.None);
            });
            return Task.CompletedTask;
        });
        using var client = await ConnectAsync(server.WsUri());
        await client.CloseAsync((WebSocketCloseStatus)4001, "bye", CancellationToken.None);
        Assert.That(await closed.Task.WaitAsync(WaitLimit), Is.EqualTo((4001, "bye")));
        Assert.That(client.State, Is.EqualTo(WebSocketState.Closed));
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("bye too"));
    }

    [Test]
    public async Task ServerInitiatedCloseReachesTheClientAndTheConnectionEnds()
    {
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
            {
                await ((WebSocketSendAsync)ws["websocket.SendAsync"])(new ArraySegment<byte>("last words"u8.ToArray()), 0x1, true, CancellationToken.None);
                await ((WebSocketCloseAsync)ws["websocket.CloseAsync"])(4000, "done", CancellationToken.None);
            });
            return Task.CompletedTask;
        });
        using var client = await ConnectAsync(server.WsUri());
        Assert.That(Encoding.UTF8.GetString((await ReceiveMessageAsync(client)).Data), Is.EqualTo("last words"));
        var (type, _) = await ReceiveMessageAsync(client);
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(client.CloseStatus, Is.EqualTo((WebSocketCloseStatus)4000));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("done"));
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
        await WaitUntil(() => server.Server.ConnectionCount == 0, "the connection closes after the close handshake");
    }

    [Test]
    public async Task TwoHundredOpenSocketsHoldNoWorkerThread()
    {
        const int Sockets = 200;
        using var server = Serve(EchoApp(), minThreads: 4);
        var clients = new List<ClientWebSocket>();
        try
        {
            for (var batch = 0; batch < Sockets; batch += 20)
            {
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ConnectAsync(server.WsUri()))));
            }

            for (var round = 0; round < 3; round++)
            {
                await Task.WhenAll(clients.Select(async (c, i) =>
                {
                    await SendTextAsync(c, $"socket {i} round {round}");
                    var (_, data) = await ReceiveMessageAsync(c);
                    Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo($"socket {i} round {round}"));
                }));
            }

            Assert.That(server.Server.ConnectionCount, Is.EqualTo(Sockets));

            // Every socket waits in a receive; no worker thread is held by any (the pool grows only while connections queue).
            Assert.That(server.Server.BusyThreadCount, Is.Zero);
            Assert.That(server.Server.ThreadCount, Is.LessThanOrEqualTo(4 + 4), "worker threads stay near minThreads (4)");
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Abort();
                c.Dispose();
            }
        }

        await WaitUntil(() => server.Server.ConnectionCount == 0, "aborted clients' connections are closed");
    }

    [Test]
    public async Task ClientVanishingMidMessageCancelsTheCallAndClosesTheConnection()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AppFunc echo = EchoApp(onSocket: ws => ((CancellationToken)ws["websocket.CallCancelled"]).Register(() => cancelled.TrySetResult()));
        using var server = Serve(async env =>
        {
            await echo(env);
        });
        using (var client = server.Connect())
        {
            Handshake(client);

            // A binary frame announcing 1,000 bytes, of which 10 arrive, then the client is gone.
            var frame = Frame(0x2, new byte[1000]);
            client.Send(frame[..18]);
            client.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        }

        await cancelled.Task.WaitAsync(WaitLimit);
        await WaitUntil(() => server.Server.ConnectionCount == 0, "the vanished client's connection is released");
        var errors = TestLogging.Memory.Logs.Where(l => l.StartsWith("ERROR", StringComparison.Ordinal) && (l.Contains("Upgraded connection", StringComparison.Ordinal) || l.Contains("Rocket.Errors.Owin.WebSockets", StringComparison.Ordinal))).ToList();
        Assert.That(errors, Is.Empty, "a vanished client is not an error");
    }

    [Test]
    public async Task StopSendsGoingAwayToOpenSocketsAndReturnsOnceTheyClose()
    {
        var limits = new ServerLimits { ShutdownTimeout = TimeSpan.FromSeconds(15) };
        var server = Serve(EchoApp(), limits: limits);
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync(server.WsUri())));
        var receives = clients.Select(async c =>
        {
            var (type, _) = await ReceiveMessageAsync(c);
            var status = c.CloseStatus;
            await c.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
            return (type, status);
        }).ToList();

        var watch = Stopwatch.StartNew();
        var stop = Task.Run(server.Dispose);
        foreach (var (type, status) in await Task.WhenAll(receives).WaitAsync(WaitLimit))
        {
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
            Assert.That(status, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        }

        await stop.WaitAsync(WaitLimit);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "Stop does not wait out the shutdown timeout once the sockets closed");
    }

    [Test]
    public async Task StopAbortsASocketWhoseApplicationIgnoresTheCloseWithinTheDrainTime()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var limits = new ServerLimits { ShutdownTimeout = TimeSpan.FromSeconds(1) };
        var server = Serve(
            env =>
            {
                ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
                {
                    var token = (CancellationToken)ws["websocket.CallCancelled"];
                    token.Register(() => cancelled.TrySetResult());

                    // Never receives: it only notices the end through websocket.CallCancelled.
                    await Task.Delay(WaitLimit, token);
                });
                return Task.CompletedTask;
            },
            limits: limits);
        using var client = await ConnectAsync(server.WsUri());
        var watch = Stopwatch.StartNew();
        await Task.Run(server.Dispose).WaitAsync(WaitLimit);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(8)), "bounded by the drain time (1 s) plus the close");
        await cancelled.Task.WaitAsync(WaitLimit);
        var (type, _) = await ReceiveMessageAsync(client);
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
    }

    [Test]
    public void ARequestThatIsNotAnUpgradeHasNoUpgradeKeys()
    {
        string[]? keys = null;
        using var server = Serve(env =>
        {
            keys = env.Keys.Where(k => k.StartsWith("websocket.", StringComparison.Ordinal) || k.StartsWith("opaque.", StringComparison.Ordinal)).ToArray();
            return Task.CompletedTask;
        });
        Assert.That(OwinTestSupport.Get(server, "/ws").StatusCode, Is.EqualTo(200));
        Assert.That(keys, Is.Empty);
    }

    [Test]
    public void TheServerAdvertisesBothExtensionsInItsCapabilities()
    {
        IDictionary<string, object>? capabilities = null;
        using var server = Serve(env =>
        {
            capabilities = (IDictionary<string, object>)env["server.Capabilities"];
            return Task.CompletedTask;
        });
        OwinTestSupport.Get(server, "/");
        Assert.That(capabilities!["websocket.Version"], Is.EqualTo("1.0"));
        Assert.That(capabilities["opaque.Version"], Is.EqualTo("1.0"));
    }

    [Test]
    public async Task RocketRequestsLogsTheHandshakeAndTheCloseWithDurationAndBytes()
    {
        using var server = Serve(EchoApp());
        using (var client = await ConnectAsync(server.WsUri("/logged")))
        {
            await SendTextAsync(client, "0123456789");
            await ReceiveMessageAsync(client);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
        }

        await WaitUntil(() => server.Server.ConnectionCount == 0, "closed");
        var lines = TestLogging.Memory.Logs.Where(l => l.Contains("GET /logged HTTP/1.1", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Some.Match(@"^INFO Rocket\.Requests 127\.0\.0\.1 - ""GET /logged HTTP/1\.1"" - 101 0 [0-9.]+ ms$"));

        // In: the text frame (2 + 4 mask + 10) and the close frame (2 + 4 mask + status 2); out: 2 + 10, and the close answered (2 + 2).
        Assert.That(lines, Has.Some.Match(@"^INFO Rocket\.Requests 127\.0\.0\.1 - ""GET /logged HTTP/1\.1"" - 101 closed after [0-9.]+ ms: 24 bytes in, 16 bytes out$"));
    }

    [Test]
    public void AMaximumMessageSizeThatIsNotANumberFailsStartNamingTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => Serve(EchoApp(), new AppInfo { ["websocket_max_message_size"] = "lots" }));
        Assert.That(e!.Message, Does.Contain("websocket_max_message_size").And.Contain("lots"));
        e = Assert.Throws<ArgumentException>(() => Serve(EchoApp(), new AppInfo { ["websocket_max_message_size"] = -1 }));
        Assert.That(e!.Message, Does.Contain("websocket_max_message_size"));
    }

    internal static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > WaitLimit)
            {
                Assert.Fail($"Timed out waiting: {what}.");
            }

            await Task.Delay(10);
        }
    }
}
