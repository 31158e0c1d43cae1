using System.Net.WebSockets;
using System.Text;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;

/// <summary>
/// At the 101 the server takes the request's objects back (its pooled exchange serves other connections while the socket
/// stays open): what the application reads of the handshake request inside its WebSocketFunc must still be that request's.
/// </summary>
public class WebSocketUpgradeLifetimeTests
{
    private const int Sockets = 6;

    [TestCase(false)]
    [TestCase(true)]
    public async Task TheHandshakeRequestsValuesStayReadableInsideTheWebSocketFuncWhileOtherRequestsReuseTheServersObjects(bool acceptAfterAnAwait)
    {
        // One worker thread: every request, the plain ones and the handshakes, goes through the same few pooled exchanges.
        using var server = Serve(ReportingApp(acceptAfterAnAwait), minThreads: 1);
        var clients = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < Sockets; i++)
            {
                var client = new ClientWebSocket();
                client.Options.KeepAliveInterval = TimeSpan.Zero;
                client.Options.SetRequestHeader("X-Tag", $"socket-{i}");
                client.Options.SetRequestHeader("Origin", $"http://origin-{i}.test");
                using var timeout = new CancellationTokenSource(WaitLimit);
                await client.ConnectAsync(server.WsUri($"/ws/{i}?n={i}"), timeout.Token);
                clients.Add(client);

                // Plain requests on other connections in between, with other paths, queries and headers.
                for (var j = 0; j < 3; j++)
                {
                    var plain = OwinTestSupport.Get(server, $"/plain/{i}-{j}?other={j}", "X-Tag: plain\r\nOrigin: http://plain.test\r\n");
                    Assert.That(plain.BodyText, Is.EqualTo($"GET /plain/{i}-{j} other={j} plain"));
                }
            }

            // More plain requests, concurrently, while every socket is open and reads its handshake request.
            var plainLoad = Task.Run(() =>
            {
                Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
                {
                    var plain = OwinTestSupport.Get(server, $"/busy/{k}?k={k}", "X-Tag: busy\r\n");
                    Assert.That(plain.BodyText, Is.EqualTo($"GET /busy/{k} k={k} busy"));
                });
            });
            for (var i = 0; i < Sockets; i++)
            {
                await SendTextAsync(clients[i], "report");
                var report = Encoding.UTF8.GetString((await ReceiveMessageAsync(clients[i])).Data);
                Assert.That(report, Is.EqualTo(
                    $"GET /ws/{i} n={i} socket-{i} HTTP/1.1 | context: ws://127.0.0.1:{server.Port}/ws/{i}?n={i} http://origin-{i}.test socket-{i} 13"),
                    "owin.Request* keys read through the captured environment and the WebSocketContext are the handshake's");
            }

            await plainLoad.WaitAsync(WaitLimit);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Abort();
                client.Dispose();
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task WritingTheResponseOrItsHeadersThroughTheCapturedEnvironmentAfterThe101FailsOrGoesNowhere(bool acceptAfterAnAwait)
    {
        var outcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env => Accept(env, acceptAfterAnAwait, async ws =>
        {
            // The 101 is out: status and headers can no longer change, the response body is an empty sink.
            var status = Throws(() => env["owin.ResponseStatusCode"] = 500);
            ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["X-Late"] = ["late"];
            await ((Stream)env["owin.ResponseBody"]).WriteAsync("nowhere"u8.ToArray());
            outcome.TrySetResult($"{status} {env["owin.ResponseStatusCode"]}");
            await ((WebSocket)ws["System.Net.WebSockets.WebSocket"]).CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }), minThreads: 1);
        using var client = await ConnectAsync(server.WsUri());
        Assert.That(await outcome.Task.WaitAsync(WaitLimit), Is.EqualTo("InvalidOperationException 101"));
        Assert.That((await ReceiveMessageAsync(client)).Type, Is.EqualTo(WebSocketMessageType.Close), "nothing but frames crossed the socket");

        // The exchange the socket came in on serves the next request cleanly: none of the late writes reached it.
        var next = OwinTestSupport.Get(server, "/next");
        Assert.That(next.StatusCode, Is.EqualTo(400));
        Assert.That(next.Header("X-Late"), Is.Null);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task RocketRequestsLogsTheCloseWithDurationAndBytesWhetherTheAppAcceptedAtOnceOrAfterAnAwait(bool acceptAfterAnAwait)
    {
        var path = acceptAfterAnAwait ? "/late-logged" : "/logged-at-once";
        using var server = Serve(env => Accept(env, acceptAfterAnAwait, async ws =>
        {
            var socket = (WebSocket)ws["System.Net.WebSockets.WebSocket"];
            var buffer = new byte[64];
            var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Text, true, CancellationToken.None);
            await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
        }));
        using (var client = await ConnectAsync(server.WsUri(path)))
        {
            await SendTextAsync(client, "0123456789");
            await ReceiveMessageAsync(client);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None).WaitAsync(WaitLimit);
        }

        await WebSocketTests.WaitUntil(() => server.Server.ConnectionCount == 0, "closed");
        await WebSocketTests.WaitUntil(() => TestLogging.Memory.Logs.Any(l => l.Contains($"GET {path} HTTP/1.1\" - 101 closed", StringComparison.Ordinal)), "the close is logged");
        var lines = TestLogging.Memory.Logs.Where(l => l.Contains($"GET {path} HTTP/1.1", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Some.Match($@"^INFO Rocket\.Requests 127\.0\.0\.1 - ""GET {path} HTTP/1\.1"" - 101 closed after [0-9.]+ ms: 24 bytes in, 16 bytes out$"));
    }

    /// <summary>Plain requests: "METHOD path query X-Tag". Upgrades: a WebSocketFunc that answers "report" with what it reads of the handshake.</summary>
    private static AppFunc ReportingApp(bool acceptAfterAnAwait) => env =>
    {
        if (!env.ContainsKey("websocket.Accept"))
        {
            var headers = (IDictionary<string, string[]>)env["owin.RequestHeaders"];
            return OwinTestSupport.Text(env, $"{env["owin.RequestMethod"]} {env["owin.RequestPath"]} {env["owin.RequestQueryString"]} {headers["X-Tag"][0]}");
        }

        return Accept(env, acceptAfterAnAwait, async ws =>
        {
            var socket = (WebSocket)ws["System.Net.WebSockets.WebSocket"];
            var buffer = new byte[64];
            await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);

            // Read only now, long after the 101, with other requests served meanwhile (the Katana chat-sample shape).
            var headers = (IDictionary<string, string[]>)env["owin.RequestHeaders"];
            var context = (WebSocketContext)ws["System.Net.WebSockets.WebSocketContext"];
            var report = $"{env["owin.RequestMethod"]} {env["owin.RequestPath"]} {env["owin.RequestQueryString"]} {headers["X-Tag"][0]} {env["owin.RequestProtocol"]}"
                         + $" | context: {context.RequestUri} {context.Origin} {context.Headers["X-Tag"]} {context.SecWebSocketVersion}";
            await socket.SendAsync(Encoding.UTF8.GetBytes(report), WebSocketMessageType.Text, true, CancellationToken.None);
            await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        });
    };

    private static async Task Accept(IDictionary<string, object> env, bool afterAnAwait, Func<IDictionary<string, object>, Task> webSocketFunc)
    {
        if (!env.TryGetValue("websocket.Accept", out var accept))
        {
            env["owin.ResponseStatusCode"] = 400;
            return;
        }

        if (afterAnAwait)
        {
            await Task.Delay(10);
        }

        ((WebSocketAccept)accept)(null!, webSocketFunc);
    }

    private static string Throws(Action action)
    {
        try
        {
            action();
            return "nothing";
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }
}
