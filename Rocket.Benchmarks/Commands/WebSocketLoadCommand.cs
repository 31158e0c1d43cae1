using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>websocket-load</c> (started by <c>websocket</c>, pinned to the load core): N WebSockets each sending a small text
/// message and waiting for its echo, in a loop; after the warm-up it counts round trips for the duration and prints
/// <c>roundtrips=N seconds=S total=T</c> (T: round trips including the warm-up).
/// </summary>
/// <remarks>
/// The clients speak RFC 6455 over raw sockets (a handshake, then one prebuilt masked frame out and the unmasked echo read
/// back per round trip), as wrk speaks HTTP: ClientWebSocket cost the load core about as much CPU per message as the
/// servers spent, so it, not the servers, set the message rate.
/// </remarks>
internal static class WebSocketLoadCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Required = true };
        var connections = new Option<int>("--connections") { DefaultValueFactory = _ => 64 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 3 };
        var duration = new Option<int>("--duration") { DefaultValueFactory = _ => 10 };
        var size = new Option<int>("--message-size") { DefaultValueFactory = _ => 32 };
        var command = new Command("websocket-load", "Load generator for the websocket command (echo round trips over N sockets).")
        {
            port, connections, warmup, duration, size,
        };
        command.Hidden = true;
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(port), parse.GetValue(connections), parse.GetValue(warmup), parse.GetValue(duration), parse.GetValue(size), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int port, int connections, int warmup, int duration, int size, CancellationToken cancellationToken)
    {
        var sockets = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => ConnectAsync(port, cancellationToken))).ConfigureAwait(false);

        var counts = new long[connections];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = sockets.Select((s, i) => Task.Run(() => LoopAsync(s, size, counts, i, stop.Token), CancellationToken.None)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(warmup), cancellationToken).ConfigureAwait(false);
        var before = Sum(counts);
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(duration), cancellationToken).ConfigureAwait(false);
        var after = Sum(counts);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        var failed = loops.Count(l => l.Result is not null);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"roundtrips={after - before} seconds={seconds:0.000} total={Sum(counts)} failed={failed}"));
        if (loops.Select(l => l.Result).FirstOrDefault(e => e is not null) is { } error)
        {
            Console.Error.WriteLine($"first failure: {error}");
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>Connects and completes the opening handshake (RFC 6455 §4.1); the server must answer 101.</summary>
    private static async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), cancellationToken).ConfigureAwait(false);
        var head = new byte[1024];
        var length = 0;
        while (head.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
        {
            var n = await socket.ReceiveAsync(head.AsMemory(length), cancellationToken).ConfigureAwait(false);
            length += n > 0 && length + n < head.Length ? n : throw new IOException("the server closed or sent an oversized head instead of a 101");
        }

        // The head ends the server's bytes: it sends nothing more before the first echo.
        return Encoding.ASCII.GetString(head, 0, 12) == "HTTP/1.1 101" ? socket : throw new IOException("not a 101: " + Encoding.ASCII.GetString(head, 0, length));
    }

    /// <summary>A masked text frame of <paramref name="size"/> 'x' bytes (RFC 6455 §5.2; any mask will do for a server).</summary>
    private static byte[] Frame(int size)
    {
        byte[] mask = [0x37, 0xfa, 0x21, 0x3d];
        var header = size < 126 ? 2 : 4;
        var frame = new byte[header + 4 + size];
        frame[0] = 0x81;
        if (size < 126)
        {
            frame[1] = (byte)(0x80 | size);
        }
        else
        {
            frame[1] = 0x80 | 126;
            frame[2] = (byte)(size >> 8);
            frame[3] = (byte)size;
        }

        mask.CopyTo(frame, header);
        for (var i = 0; i < size; i++)
        {
            frame[header + 4 + i] = (byte)('x' ^ mask[i % 4]);
        }

        return frame;
    }

    private static async Task<string?> LoopAsync(Socket socket, int size, long[] counts, int index, CancellationToken stop)
    {
        var message = Frame(size);

        // The echo: an unmasked text frame with the same payload.
        var echo = (size < 126 ? 2 : 4) + size;
        var buffer = new byte[echo];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(message, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
                var read = 0;
                while (read < echo)
                {
                    var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
                    read += n > 0 ? n : throw new IOException("the server closed the connection");
                }

                if (buffer[0] != 0x81)
                {
                    throw new IOException($"expected a text frame, got first byte 0x{buffer[0]:x2}");
                }

                Volatile.Write(ref counts[index], counts[index] + 1);
            }

            return null;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return e.Message;
        }
    }

    private static long Sum(long[] counts)
    {
        long sum = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            sum += Volatile.Read(ref counts[i]);
        }

        return sum;
    }
}
