using System.Net.WebSockets;
using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Owin;

using AppFunc = Func<IDictionary<string, object>, Task>;
using WebSocketAccept = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;
using WebSocketCloseAsync = Func<int, string, CancellationToken, Task>;
using WebSocketReceiveAsync = Func<ArraySegment<byte>, CancellationToken, Task<Tuple<int, bool, int>>>;
using WebSocketSendAsync = Func<ArraySegment<byte>, int, bool, CancellationToken, Task>;

/// <summary>OWIN WebSocket apps written the way Katana-era code was (the extension's delegates by their types), and client helpers.</summary>
internal static class WebSocketTestSupport
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    /// <summary>Accepts with <paramref name="options"/> and echoes each whole message until the client closes; then answers the close.</summary>
    public static AppFunc EchoApp(IDictionary<string, object>? options = null, Action<IDictionary<string, object>>? onSocket = null) => env =>
    {
        if (!env.TryGetValue("websocket.Accept", out var accept))
        {
            env["owin.ResponseStatusCode"] = 400;
            return Task.CompletedTask;
        }

        ((WebSocketAccept)accept)(options!, async ws =>
        {
            onSocket?.Invoke(ws);
            var send = (WebSocketSendAsync)ws["websocket.SendAsync"];
            var receive = (WebSocketReceiveAsync)ws["websocket.ReceiveAsync"];
            var close = (WebSocketCloseAsync)ws["websocket.CloseAsync"];
            var cancel = (CancellationToken)ws["websocket.CallCancelled"];
            var buffer = new byte[16 * 1024];
            var message = new MemoryStream();
            while (true)
            {
                var (type, end, count) = await receive(new ArraySegment<byte>(buffer), cancel);
                if (type == 0x8)
                {
                    await close((int)ws["websocket.ClientCloseStatus"], (string)ws["websocket.ClientCloseDescription"], cancel);
                    return;
                }

                message.Write(buffer, 0, count);
                if (end)
                {
                    await send(new ArraySegment<byte>(message.GetBuffer(), 0, (int)message.Length), type, true, cancel);
                    message.SetLength(0);
                }
            }
        });
        return Task.CompletedTask;
    };

    public static TestServer Serve(AppFunc app, AppInfo? extra = null, ServerLimits? limits = null, int minThreads = 4)
    {
        var appInfo = new AppInfo { ["owin_app"] = app };
        foreach (var (key, value) in extra ?? [])
        {
            appInfo[key] = value;
        }

        return new TestServer(() => new RocketOwin.Methods.Owin.OwinWorker(), appInfo, minThreads, limits: limits);
    }

    public static Uri WsUri(this TestServer server, string path = "/ws") => new($"ws://127.0.0.1:{server.Port}{path}");

    public static async Task<ClientWebSocket> ConnectAsync(Uri uri, params string[] subProtocols)
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        foreach (var p in subProtocols)
        {
            client.Options.AddSubProtocol(p);
        }

        using var timeout = new CancellationTokenSource(WaitLimit);
        await client.ConnectAsync(uri, timeout.Token);
        return client;
    }

    /// <summary>Receives one whole message.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    public static Task SendTextAsync(WebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>A client frame (RFC 6455 §5.2), masked unless told otherwise; the length field sized as the payload needs.</summary>
    public static byte[] Frame(int opcode, byte[] payload, bool fin = true, bool masked = true)
    {
        var frame = new MemoryStream();
        frame.WriteByte((byte)((fin ? 0x80 : 0) | opcode));
        var maskBit = masked ? 0x80 : 0;
        if (payload.Length < 126)
        {
            frame.WriteByte((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.WriteByte((byte)(maskBit | 126));
            frame.WriteByte((byte)(payload.Length >> 8));
            frame.WriteByte((byte)payload.Length);
        }
        else
        {
            frame.WriteByte((byte)(maskBit | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                frame.WriteByte((byte)((long)payload.Length >> shift));
            }
        }

        if (!masked)
        {
            frame.Write(payload);
            return frame.ToArray();
        }

        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        frame.Write(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            frame.WriteByte((byte)(payload[i] ^ mask[i % 4]));
        }

        return frame.ToArray();
    }

    /// <summary>Sends a valid handshake over a raw client and reads the 101's head; returns the header lines.</summary>
    public static List<string> Handshake(RawClient client, string path = "/ws", string extra = "")
    {
        client.Send($"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n");
        var status = client.ReadLine();
        Assert.That(status, Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
        var headers = new List<string>();
        string? line;
        while (!string.IsNullOrEmpty(line = client.ReadLine()))
        {
            headers.Add(line);
        }

        return headers;
    }

    /// <summary>Reads one server frame (unmasked, RFC 6455 §5.1): opcode and payload.</summary>
    public static (int Opcode, byte[] Payload) ReadFrame(RawClient client)
    {
        var head = client.ReadExactly(2);
        Assert.That(head[1] & 0x80, Is.Zero, "server frames are not masked");
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = client.ReadExactly(2);
            length = (ext[0] << 8) | ext[1];
        }
        else if (length == 127)
        {
            var ext = client.ReadExactly(8);
            length = 0;
            foreach (var b in ext)
            {
                length = (length << 8) | b;
            }
        }

        return (head[0] & 0x0F, client.ReadExactly((int)length));
    }

    /// <summary>The status code of a close frame's payload.</summary>
    public static int CloseStatus(byte[] payload) => (payload[0] << 8) | payload[1];
}
