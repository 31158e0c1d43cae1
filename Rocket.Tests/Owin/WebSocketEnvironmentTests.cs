using System.Net.WebSockets;
using static RocketOwin.Tests.Owin.WebSocketTestSupport;

namespace RocketOwin.Tests.Owin;

using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>
/// The WebSocketFunc's environment is read from the session (no dictionary per socket) and websocket.CallCancelled's
/// source is made on first read: both must still behave as a plain dictionary and a token that was there all along.
/// </summary>
public class WebSocketEnvironmentTests
{
    [Test]
    public async Task CallCancelledReadOnlyAfterAnIdleClientVanishedIsAlreadyCancelled()
    {
        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
            {
                var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
                try
                {
                    await receive(new ArraySegment<byte>(new byte[16]), CancellationToken.None);
                    seen.TrySetResult(false);
                }
                catch (Exception)
                {
                    // The first read of the token comes after the call ended.
                    seen.TrySetResult(((CancellationToken)ws["websocket.CallCancelled"]).IsCancellationRequested);
                    throw;
                }
            });
            return Task.CompletedTask;
        });
        var client = await ConnectAsync(server.WsUri());
        client.Abort();
        client.Dispose();
        Assert.That(await seen.Task.WaitAsync(WaitLimit), Is.True, "websocket.CallCancelled is cancelled once the client has vanished");
        await WebSocketTests.WaitUntil(() => server.Server.ConnectionCount == 0, "the vanished client's connection is released");
    }

    [Test]
    public async Task CallCancelledReadWhileTheSocketIsIdleFiresWhenTheClientVanishes()
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
            {
                var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
                var pending = receive(new ArraySegment<byte>(new byte[16]), CancellationToken.None);
                ((CancellationToken)ws["websocket.CallCancelled"]).Register(() => fired.TrySetResult());
                reading.TrySetResult();
                await pending;
            });
            return Task.CompletedTask;
        });
        var client = await ConnectAsync(server.WsUri());
        await reading.Task.WaitAsync(WaitLimit);
        client.Abort();
        client.Dispose();
        await fired.Task.WaitAsync(WaitLimit);
    }

    [Test]
    public async Task TheEnvironmentTakesNewKeysAndReplacedOrRemovedExtensionKeysLikeADictionary()
    {
        var result = new TaskCompletionSource<(string[] Before, string[] After, object Mine, int CloseStatus)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Serve(env =>
        {
            ((WebSocketAccept)env["websocket.Accept"])(null!, async ws =>
            {
                var before = ws.Keys.Order(StringComparer.Ordinal).ToArray();
                ws["my.key"] = 42;
                ws.Remove("System.Net.WebSockets.WebSocketContext");
                ws["websocket.Version"] = "1.0-replaced";
                var after = ws.Keys.Order(StringComparer.Ordinal).ToArray();

                // The delegates still work after the keys moved into a dictionary, and the client's close still shows.
                var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
                var buffer = new byte[16];
                var (type, _, count) = await receive(new ArraySegment<byte>(buffer), CancellationToken.None);
                await ((WebSocketSendAsync)ws["websocket.SendAsync"])(new ArraySegment<byte>(buffer, 0, count), type, true, CancellationToken.None);
                (type, _, _) = await receive(new ArraySegment<byte>(buffer), CancellationToken.None);
                await ((WebSocketCloseAsync)ws["websocket.CloseAsync"])(1000, string.Empty, CancellationToken.None);
                result.TrySetResult((before, after, ws["my.key"], type == 0x8 ? (int)ws["websocket.ClientCloseStatus"] : -1));
            });
            return Task.CompletedTask;
        });
        using var client = await ConnectAsync(server.WsUri());
        await SendTextAsync(client, "hi");
        Assert.That((await ReceiveMessageAsync(client)).Data, Is.EqualTo("hi"u8.ToArray()));
        await client.CloseAsync((WebSocketCloseStatus)4002, "bye", CancellationToken.None);
        var (keysBefore, keysAfter, mine, closeStatus) = await result.Task.WaitAsync(WaitLimit);

        string[] extension = ["System.Net.WebSockets.WebSocket", "System.Net.WebSockets.WebSocketContext", "websocket.CallCancelled", "websocket.CloseAsync", "websocket.ReceiveAsync", "websocket.SendAsync", "websocket.Version"];
        Assert.That(keysBefore, Is.EqualTo(extension));
        Assert.That(keysAfter, Is.EqualTo(extension.Where(k => k != "System.Net.WebSockets.WebSocketContext").Append("my.key").Order(StringComparer.Ordinal)));
        Assert.That(mine, Is.EqualTo(42));
        Assert.That(closeStatus, Is.EqualTo(4002));
    }
}
