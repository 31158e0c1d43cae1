using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RocketOwin.Tests.Support;

/// <summary>Exact bytes over a real socket, and a strict reader for HTTP/1.1 responses (for wire tests).</summary>
public sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public RawClient(IPEndPoint endPoint, int timeoutMs = 10_000)
    {
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect(endPoint);
        _socket.ReceiveTimeout = timeoutMs;
        _socket.SendTimeout = timeoutMs;
        _stream = new NetworkStream(_socket, ownsSocket: true);
    }

    public Socket Socket => _socket;

    public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

    public void Send(byte[] bytes) => _stream.Write(bytes);

    /// <summary>Reads one response; the body by Content-Length, chunked coding, or to end of stream.</summary>
    public RawResponse ReadResponse(bool headRequest = false)
    {
        var statusLine = ReadLine() ?? throw new IOException("Connection closed before a status line.");
        var headers = new List<KeyValuePair<string, string>>();
        string? line;
        while (!string.IsNullOrEmpty(line = ReadLine()))
        {
            var colon = line.IndexOf(':');
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        if (line is null)
        {
            throw new IOException("Connection closed inside the headers.");
        }

        var response = new RawResponse(statusLine, headers);
        var status = response.StatusCode;
        if (headRequest || status is < 200 or 204 or 304)
        {
            return response;
        }

        if (response.Header("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new MemoryStream();
            while (true)
            {
                var sizeLine = ReadLine() ?? throw new IOException("Connection closed inside a chunked body.");
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (!string.IsNullOrEmpty(ReadLine()))
                    {
                    }

                    break;
                }

                body.Write(ReadExactly(size));
                if (ReadLine() != string.Empty)
                {
                    throw new IOException("Chunk not followed by CRLF.");
                }
            }

            response.Body = body.ToArray();
            response.WasChunked = true;
        }
        else if (response.Header("Content-Length") is { } cl)
        {
            response.Body = ReadExactly(int.Parse(cl));
        }
        else
        {
            response.Body = ReadToEnd();
        }

        return response;
    }

    /// <summary>A line without its CRLF; null at end of stream.</summary>
    public string? ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (_start == _end && !Fill())
            {
                return sb.Length == 0 ? null : sb.ToString();
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                if (sb.Length > 0 && sb[^1] == '\r')
                {
                    sb.Length--;
                }

                return sb.ToString();
            }

            sb.Append((char)b);
        }
    }

    public byte[] ReadExactly(int count)
    {
        var result = new byte[count];
        var got = 0;
        while (got < count)
        {
            if (_start == _end && !Fill())
            {
                throw new IOException($"Connection closed after {got} of {count} body bytes.");
            }

            var n = Math.Min(count - got, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, got, n);
            _start += n;
            got += n;
        }

        return result;
    }

    public byte[] ReadToEnd()
    {
        var ms = new MemoryStream();
        while (_start < _end || Fill())
        {
            ms.Write(_buffer, _start, _end - _start);
            _start = _end;
        }

        return ms.ToArray();
    }

    /// <summary>True when the server closed the connection (end of stream or reset); false when bytes arrive. A read timeout throws: silence is not a close.</summary>
    public bool IsClosedByServer()
    {
        try
        {
            return _start == _end && !Fill();
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw new TimeoutException("The server neither closed the connection nor sent anything within the read timeout.", e);
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _stream.Dispose();

    private bool Fill()
    {
        _start = 0;
        _end = _stream.Read(_buffer, 0, _buffer.Length);
        return _end > 0;
    }
}

public sealed class RawResponse(string statusLine, List<KeyValuePair<string, string>> headers)
{
    public string StatusLine { get; } = statusLine;

    public int StatusCode => int.Parse(StatusLine.Split(' ')[1]);

    public List<KeyValuePair<string, string>> Headers { get; } = headers;

    public byte[] Body { get; set; } = [];

    public string BodyText => Encoding.UTF8.GetString(Body);

    public bool WasChunked { get; set; }

    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public int HeaderCount(string name) => Headers.Count(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
}
