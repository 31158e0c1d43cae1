// The Kestrel peer for side-by-side runs: the same response bytes as Rocket's PlaintextWorker
// ("Hello, World!", Content-Type text/plain, Content-Length 13). Usage: KestrelPeer 127.0.0.1:PORT [websocket]
// With "websocket", app.UseWebSockets() and an echo of every message, the loop of Rocket.Benchmarks/WebSocketEchoApp.cs.
// Kestrel's own defaults are kept on purpose (Server GC from the Web SDK, no inline socket completions):
// the comparison is against Kestrel as people ship it.

if (args.Length is not (1 or 2) || (args.Length == 2 && args[1] != "websocket"))
{
    Console.Error.WriteLine("usage: KestrelPeer 127.0.0.1:PORT [websocket]");
    return 2;
}

var url = args[0].StartsWith("http://", StringComparison.Ordinal) ? args[0] : "http://" + args[0];
var body = "Hello, World!"u8.ToArray();

var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls(url);

var app = builder.Build();
if (args.Length == 2)
{
    app.UseWebSockets();
    app.Use(async (context, next) =>
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await next(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await WebSocketEcho.RunAsync(socket);
    });
}

app.Run(context =>
{
    context.Response.StatusCode = StatusCodes.Status200OK;
    context.Response.ContentType = "text/plain";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
});
app.Run();
return 0;

/// <summary>Echoes each message; waits with a zero-byte receive and rents a buffer only while a message is in hand.</summary>
internal static class WebSocketEcho
{
    public static async Task RunAsync(System.Net.WebSockets.WebSocket socket)
    {
        while (true)
        {
            var first = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (first.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
                return;
            }

            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var count = 0;
                var end = first.EndOfMessage;
                while (!end)
                {
                    if (count == buffer.Length)
                    {
                        throw new InvalidDataException("The echo benchmark sends messages under 4096 bytes.");
                    }

                    var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                    end = result.EndOfMessage;
                }

                await socket.SendAsync(buffer.AsMemory(0, count), first.MessageType, true, CancellationToken.None);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
