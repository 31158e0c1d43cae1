using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>websocket-load</c> (started by <c>websocket</c>, pinned to the load core): N WebSockets each sending a small text
/// message and waiting for its echo, in a loop; after the warm-up it counts round trips for the duration and prints
/// <c>roundtrips=N seconds=S total=T</c> (T: round trips including the warm-up).
/// </summary>
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
        var uri = new Uri($"ws://127.0.0.1:{port}/ws");
        var sockets = await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return socket;
        })).ConfigureAwait(false);

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
            socket.Abort();
            socket.Dispose();
        }

        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"roundtrips={after - before} seconds={seconds:0.000} total={Sum(counts)} failed={failed}"));
        if (loops.Select(l => l.Result).FirstOrDefault(e => e is not null) is { } error)
        {
            Console.Error.WriteLine($"first failure: {error}");
        }

        return failed == 0 ? 0 : 1;
    }

    private static async Task<string?> LoopAsync(ClientWebSocket socket, int size, long[] counts, int index, CancellationToken stop)
    {
        var message = new byte[size];
        Array.Fill(message, (byte)'x');
        var buffer = new byte[Math.Max(size, 64)];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(message.AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                }
                while (!result.EndOfMessage);
                Volatile.Write(ref counts[index], counts[index] + 1);
            }

            return null;
        }
        catch (Exception e) when (e is WebSocketException or IOException)
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
