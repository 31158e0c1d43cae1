using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using RocketOwin.Benchmarks.Commands;
using RocketOwin.Methods.Proxy;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// One GET / through an in-process Rocket <c>proxy</c> method to an in-process upstream
/// (<see cref="ProxyUpstreamWorker"/>, "Hello, World!"), over one kept-alive loopback client connection.
/// Allocated is everything the process allocated for one proxied request: the proxy's share (request
/// message, SocketsHttpHandler, header copies) plus the upstream's (0 for the plaintext engine path) and
/// this client's (0). Time per op is two loopback round trips and says little about throughput.
/// </summary>
[MemoryDiagnoser]
public class ProxyRoundTripBenchmarks : IDisposable
{
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"u8.ToArray();
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ContentLengthName = "content-length:"u8.ToArray();

    private readonly byte[] _buffer = new byte[4096];
    private Rocket? _upstream;
    private Rocket? _proxy;
    private Socket? _socket;

    [GlobalSetup]
    public void Setup()
    {
        ServeRocketCommand.ConfigureQuietLogging();
        Rocket.RegisterMethod("micro-upstream", () => new ProxyUpstreamWorker());
        Rocket.RegisterMethod("micro-proxy", () => new ProxyWorker());
        _upstream = new Rocket(("127.0.0.1", 0), "micro-upstream", new AppInfo(), minThreads: 4, handleSignals: false);
        _upstream.Start(background: true);
        var appInfo = new AppInfo { ["upstream"] = $"http://127.0.0.1:{_upstream.BoundEndPoints[0].Port}" };
        _proxy = new Rocket(("127.0.0.1", 0), "micro-proxy", appInfo, minThreads: 4, handleSignals: false);
        _proxy.Start(background: true);

        // Timeouts so that a server that stops answering fails the run instead of hanging it.
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = 10_000,
            SendTimeout = 10_000,
        };
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, _proxy.BoundEndPoints[0].Port));
        var length = RoundTrip();
        var response = Encoding.Latin1.GetString(_buffer, 0, length);
        if (!response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || !response.EndsWith("\r\n\r\nHello, World!", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("not the proxied plaintext response:\n" + response);
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
        _proxy?.Stop();
        _proxy = null;
        _upstream?.Stop();
        _upstream = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Sends the request and reads the whole response; returns its length in bytes.</summary>
    [Benchmark]
    public int RoundTrip()
    {
        var socket = _socket!;
        socket.Send(Request);
        var filled = 0;
        var expected = int.MaxValue;
        while (filled < expected)
        {
            var received = socket.Receive(_buffer, filled, _buffer.Length - filled, SocketFlags.None);
            if (received == 0)
            {
                throw new InvalidOperationException($"connection closed after {filled} bytes");
            }

            filled += received;
            if (expected == int.MaxValue)
            {
                var headEnd = _buffer.AsSpan(0, filled).IndexOf(HeadTerminator);
                if (headEnd >= 0)
                {
                    expected = headEnd + HeadTerminator.Length + ContentLength(_buffer.AsSpan(0, headEnd));
                }
            }
        }

        return filled;
    }

    /// <summary>Content-Length of a response head, without allocating.</summary>
    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        while (head.Length > 0)
        {
            var end = head.IndexOf("\r\n"u8);
            var line = end < 0 ? head : head[..end];
            if (line.Length > ContentLengthName.Length
                && Ascii.EqualsIgnoreCase(line[..ContentLengthName.Length], ContentLengthName)
                && Utf8Parser.TryParse(line[ContentLengthName.Length..].Trim((byte)' '), out int length, out _))
            {
                return length;
            }

            head = end < 0 ? default : head[(end + 2)..];
        }

        throw new InvalidOperationException("response without Content-Length");
    }
}
