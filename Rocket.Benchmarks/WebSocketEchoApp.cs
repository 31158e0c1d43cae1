using System.Buffers;

namespace RocketOwin.Benchmarks;

using AppFunc = Func<IDictionary<string, object>, Task>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>
/// The WebSocket echo for the <c>websocket</c> benchmark, through the OWIN WebSocket extension: the same loop as the Kestrel
/// peer's (KestrelPeer/Program.cs). It waits for each message with a zero-byte receive and rents a buffer only while a
/// message is in hand, so an idle socket holds no application buffer and RSS per idle socket is the server's own cost.
/// Anything that is not a WebSocket handshake gets the plaintext response (the harness's readiness probe).
/// </summary>
internal static class WebSocketEchoApp
{
    private const int BufferSize = 4096;
    private static readonly ArraySegment<byte> Empty = new([]);

    /// <summary>appInfo for the "owin" method.</summary>
    public static AppInfo AppInfo => new() { ["owin_app"] = (AppFunc)Invoke };

    /// <summary>Registers the owin method in code (nothing else here loads its assembly before Start looks for it).</summary>
    public static void RegisterOwinMethod() => Rocket.RegisterMethod("owin", () => new RocketOwin.Methods.Owin.OwinWorker());

    private static Task Invoke(IDictionary<string, object> env)
    {
        if (!env.TryGetValue("websocket.Accept", out var accept))
        {
            return OwinPlaintextApps.AppFunc(env);
        }

        ((WebSocketAccept)accept)(null!, EchoAsync);
        return Task.CompletedTask;
    }

    private static async Task EchoAsync(IDictionary<string, object> ws)
    {
        var send = (WebSocketSendAsync)ws["websocket.SendAsync"];
        var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
        var close = (WebSocketCloseAsync)ws["websocket.CloseAsync"];
        while (true)
        {
            var (type, end, _) = await receive(Empty, CancellationToken.None).ConfigureAwait(false);
            if (type == 0x8)
            {
                await close((int)ws["websocket.ClientCloseStatus"], string.Empty, CancellationToken.None).ConfigureAwait(false);
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                var count = 0;
                while (!end)
                {
                    if (count == buffer.Length)
                    {
                        throw new InvalidDataException($"The echo benchmark sends messages under {BufferSize} bytes.");
                    }

                    (_, end, var n) = await receive(new ArraySegment<byte>(buffer, count, buffer.Length - count), CancellationToken.None).ConfigureAwait(false);
                    count += n;
                }

                await send(new ArraySegment<byte>(buffer, 0, count), type, true, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
