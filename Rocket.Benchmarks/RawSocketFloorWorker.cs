using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RocketOwin.Benchmarks;

/// <summary>
/// A measuring instrument, not a product: the cheapest proxy that can be built on Rocket's core, used by
/// <c>proxy --floor</c> to show how much of the proxy method's cost is the HTTP client and how much is the
/// runtime's sockets. It forwards bodiless requests over raw pooled sockets with one pre-built Host line and
/// X-Forwarded-For/Proto, and relays responses that carry a Content-Length, copying their fields (bar Date and
/// Server) as they are. No hop-by-hop filtering, chunking, timeouts, retries or error mapping: anything else
/// fails the request (500) and drops the upstream connection.
/// </summary>
internal sealed class RawSocketFloorWorker : Worker
{
    private const int BufferSize = 16 * 1024;
    private readonly ConcurrentStack<Socket> _idle = new();
    private IPEndPoint _upstream = null!;
    private byte[] _hostLine = [];

    protected override void Initialize()
    {
        var value = AppInfo.GetString("upstream");
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !IPAddress.TryParse(uri.Host, out var address))
        {
            throw new ArgumentException($"appInfo 'upstream' must be http://IP:PORT for the floor proxy (got '{value}').");
        }

        _upstream = new IPEndPoint(address, uri.Port);
        _hostLine = Encoding.ASCII.GetBytes($"Host: {uri.Authority}\r\n");
    }

    protected override void Shutdown()
    {
        while (_idle.TryPop(out var socket))
        {
            socket.Dispose();
        }
    }

    protected override async ValueTask HandleAsync(RequestContext context)
    {
        if (context.Request.HasBody)
        {
            throw new NotSupportedException("The floor proxy forwards bodiless requests only.");
        }

        if (!_idle.TryPop(out var socket))
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(_upstream).ConfigureAwait(false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var reusable = false;
        try
        {
            await socket.SendAsync(buffer.AsMemory(0, WriteHead(context, buffer))).ConfigureAwait(false);
            var received = 0;
            int headEnd;
            while ((headEnd = buffer.AsSpan(0, received).IndexOf("\r\n\r\n"u8)) < 0)
            {
                received += await ReceiveSomeAsync(socket, buffer.AsMemory(received)).ConfigureAwait(false);
            }

            var length = CopyHead(buffer.AsSpan(0, headEnd + 2), context.Response);
            var bodyStart = headEnd + 4;
            if (bodyStart + length > buffer.Length)
            {
                throw new NotSupportedException($"The floor proxy relays bodies up to {BufferSize - bodyStart} bytes.");
            }

            while (received - bodyStart < length)
            {
                received += await ReceiveSomeAsync(socket, buffer.AsMemory(received)).ConfigureAwait(false);
            }

            context.Response.Write(buffer.AsSpan(bodyStart, (int)length));
            reusable = received == bodyStart + length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (reusable)
            {
                _idle.Push(socket);
            }
            else
            {
                socket.Dispose();
            }
        }
    }

    private int WriteHead(RequestContext context, byte[] buffer)
    {
        var head = context.Request;
        var span = buffer.AsSpan();
        var n = Encoding.ASCII.GetBytes(head.Method, span);
        span[n++] = (byte)' ';
        n += Encoding.ASCII.GetBytes(head.Target, span[n..]);
        n += Encoding.ASCII.GetBytes(" HTTP/1.1\r\n", span[n..]);
        _hostLine.CopyTo(span[n..]);
        n += _hostLine.Length;
        n += Encoding.ASCII.GetBytes("X-Forwarded-For: ", span[n..]);
        n += Encoding.ASCII.GetBytes(context.Connection.RemoteEndPoint.Address.ToString(), span[n..]);
        n += Encoding.ASCII.GetBytes("\r\nX-Forwarded-Proto: http\r\n\r\n", span[n..]);
        return n;
    }

    /// <summary>Status and fields onto the response; returns the Content-Length.</summary>
    private static long CopyHead(ReadOnlySpan<byte> head, Response response)
    {
        if (head.Length < 12 || !Utf8Parser.TryParse(head[9..12], out int status, out _))
        {
            throw new InvalidDataException("The upstream's status line is malformed.");
        }

        response.StatusCode = status;
        long? length = null;
        head = head[(head.IndexOf("\r\n"u8) + 2)..];
        while (head.Length > 0)
        {
            var line = head[..head.IndexOf("\r\n"u8)];
            head = head[(line.Length + 2)..];
            var colon = line.IndexOf((byte)':');
            var name = Encoding.ASCII.GetString(line[..colon]);
            var value = Encoding.ASCII.GetString(line[(colon + 1)..].Trim((byte)' '));
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                response.Headers.Set(name, value);
            }
            else if (!name.Equals("Date", StringComparison.OrdinalIgnoreCase) && !name.Equals("Server", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.Add(name, value);
            }
        }

        return length ?? throw new NotSupportedException("The floor proxy relays Content-Length responses only.");
    }

    private static async ValueTask<int> ReceiveSomeAsync(Socket socket, Memory<byte> free)
    {
        if (free.IsEmpty)
        {
            throw new NotSupportedException($"The floor proxy's responses must fit in {BufferSize} bytes.");
        }

        var n = await socket.ReceiveAsync(free).ConfigureAwait(false);
        return n > 0 ? n : throw new IOException("The upstream closed the connection.");
    }
}
