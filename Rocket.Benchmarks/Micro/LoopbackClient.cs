using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RocketOwin.Benchmarks.Micro;

/// <summary>
/// One kept-alive loopback connection that sends a fixed request and reads its whole response
/// (Content-Length framed) without allocating, so that a benchmark's Allocated column is the server's.
/// </summary>
internal sealed class LoopbackClient : IDisposable
{
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ContentLengthName = "content-length:"u8.ToArray();

    private readonly byte[] _buffer = new byte[4096];
    private readonly Socket _socket;

    /// <summary>Connects to 127.0.0.1 on the port <paramref name="server"/> listens on; timeouts make a stuck server fail the run instead of hanging it.</summary>
    public LoopbackClient(Rocket server)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = 10_000,
            SendTimeout = 10_000,
        };
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, server.BoundEndPoints[0].Port));
    }

    /// <summary>Sends <paramref name="request"/> and reads the whole response; returns its length in bytes.</summary>
    public int RoundTrip(byte[] request)
    {
        _socket.Send(request);
        var filled = 0;
        var expected = int.MaxValue;
        while (filled < expected)
        {
            var received = _socket.Receive(_buffer, filled, _buffer.Length - filled, SocketFlags.None);
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

    /// <summary>One round trip, checked: the response must be a 200 whose body is <paramref name="body"/> (run once in setup).</summary>
    public void Verify(byte[] request, string body)
    {
        var response = Encoding.Latin1.GetString(_buffer, 0, RoundTrip(request));
        if (!response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || !response.EndsWith("\r\n\r\n" + body, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"not the expected response (body '{body}'):\n{response}");
        }
    }

    public void Dispose() => _socket.Dispose();

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
