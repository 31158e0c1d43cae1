using System.Net.WebSockets;
using RocketOwin.Tests.Support;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>What an open WebSocket keeps alive on the server: a socket may stay open for hours, so everything it holds counts.</summary>
public class WebSocketRetentionTests
{
    [TestCase(false)]
    [TestCase(true)]
    public async Task AnOpenSocketNoLongerKeepsTheRequestsEnvironmentReachable(bool acceptAfterAnAwait)
    {
        var environments = new List<WeakReference>();
        using var server = Serve(AcceptingApp(environments, acceptAfterAnAwait));
        using var client = await ConnectAsync(server.WsUri());
        await SendTextAsync(client, "ping");
        var (_, echoed) = await ReceiveMessageAsync(client);
        Assert.That(echoed, Is.EqualTo("ping"u8.ToArray()), "the socket is open and served");

        // The environment was the request's; the WebSocketFunc has its own. Nothing the server keeps for the open socket
        // may reach the request's (before: the state machine that awaited an application accepting late held it).
        var deadline = DateTime.UtcNow + WaitLimit;
        while (environments[0].IsAlive && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }

        Assert.That(environments[0].IsAlive, Is.False, "the request's environment is collectable while the socket stays open");
        await SendTextAsync(client, "still there");
        Assert.That((await ReceiveMessageAsync(client)).Data, Is.EqualTo("still there"u8.ToArray()));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None).WaitAsync(WaitLimit);
    }

    /// <summary>Accepts (after an await when told) and echoes each message; remembers the request's environment only weakly.</summary>
    private static AppFunc AcceptingApp(List<WeakReference> environments, bool acceptAfterAnAwait) => async env =>
    {
        lock (environments)
        {
            environments.Add(new WeakReference(env));
        }

        var accept = (WebSocketAccept)env["websocket.Accept"];
        if (acceptAfterAnAwait)
        {
            await Task.Delay(10);
        }

        accept(null!, EchoAsync);
    };

    private static async Task EchoAsync(IDictionary<string, object> ws)
    {
        var send = (WebSocketSendAsync)ws["websocket.SendAsync"];
        var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
        var buffer = new byte[1024];
        while (true)
        {
            var (type, end, count) = await receive(new ArraySegment<byte>(buffer), CancellationToken.None);
            if (type == 0x8)
            {
                return;
            }

            await send(new ArraySegment<byte>(buffer, 0, count), type, end, CancellationToken.None);
        }
    }
}
