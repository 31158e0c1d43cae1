using System.Net;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Methods.Proxy;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

/// <summary>A Rocket serving the proxy method in front of the given upstreams.</summary>
public static class ProxyServer
{
    public static TestServer Start(string upstream, params (string Key, object? Value)[] settings)
    {
        var appInfo = new AppInfo { ["upstream"] = upstream };
        foreach (var (key, value) in settings)
        {
            appInfo[key] = value;
        }

        return new TestServer(new ProxyWorker(), appInfo);
    }

    public static string Url(this TestServer server) => $"http://127.0.0.1:{server.Port}";

    /// <summary>A loopback port nothing listens on: connecting to it is refused.</summary>
    public static string RefusedUrl()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return $"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}";
    }

    /// <summary>Echoes the request headers it received, one "Name: value" per line.</summary>
    public static LambdaWorker HeaderEcho() => new(c =>
    {
        var sb = new StringBuilder();
        sb.Append(c.Request.Method).Append(' ').Append(c.Request.Target).Append('\n');
        foreach (var (name, value) in c.Request.Headers)
        {
            sb.Append(name).Append(": ").Append(value).Append('\n');
        }

        c.Response.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        return ValueTask.CompletedTask;
    });

    /// <summary>An upstream that ignores Expect: 100-continue: it reads a 4-byte body, then answers "got " and the body.</summary>
    public static RawUpstream NeverContinuesUpstream() => new(async (socket, head) =>
    {
        var body = new byte[4];
        for (var got = 0; got < body.Length;)
        {
            var n = await socket.ReceiveAsync(body.AsMemory(got));
            if (n == 0)
            {
                return;
            }

            got += n;
        }

        await RawUpstream.SendAsync(socket, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ngot " + Encoding.ASCII.GetString(body));
    });

    public static string[] Lines(this RawResponse response) => response.BodyText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// A plain socket server that misbehaves on purpose: each accepted connection runs <c>script</c>, which
/// gets the socket after the request head was read. Counts connections.
/// </summary>
public sealed class RawUpstream : IDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, string, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private int _connections;

    public RawUpstream(Func<Socket, string, Task> script)
    {
        _script = script;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _ = AcceptLoopAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Set when a connection the script holds open was closed by the proxy.</summary>
    public TaskCompletionSource PeerClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Signalled with each request head received.</summary>
    public TaskCompletionSource<string> FirstRequest { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task SendAsync(Socket socket, string text) => socket.SendAsync(Encoding.Latin1.GetBytes(text));

    /// <summary>Waits until the peer closes the connection (reads until end of stream or reset).</summary>
    public static async Task WaitForCloseAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (var s in _accepted)
            {
                s.Dispose();
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            lock (_accepted)
            {
                _accepted.Add(socket);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    var head = await ReadHeadAsync(socket);
                    FirstRequest.TrySetResult(head);
                    await _script(socket, head);
                    await WaitForCloseAsync(socket);
                    PeerClosed.TrySetResult();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    PeerClosed.TrySetResult();
                }
            });
        }
    }

    public static async Task<string> ReadHeadAsync(Socket socket)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(one) == 0)
            {
                break;
            }

            sb.Append((char)one[0]);
        }

        return sb.ToString();
    }
}
