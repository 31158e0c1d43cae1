using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>One HTTP/1.1 response as read off the wire; Head is the status line and headers without the blank line.</summary>
internal sealed record RawResponse(int Status, string Head, string Body)
{
    /// <summary>The first value of a header (case-insensitive name), or null.</summary>
    public string? Header(string name)
    {
        foreach (var line in Head.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }

    /// <summary>Null when this is the benchmark's plaintext response, else what differs.</summary>
    public string? PlaintextMismatch()
    {
        var problems = new List<string>();
        if (Status != 200)
        {
            problems.Add($"status {Status}");
        }
        if (Body != "Hello, World!")
        {
            problems.Add($"body \"{Body}\"");
        }
        if (Header("Content-Type") is not { } type || !type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Content-Type {Header("Content-Type") ?? "missing"}");
        }
        return problems.Count == 0 ? null : string.Join(", ", problems);
    }
}

/// <summary>
/// A minimal HTTP/1.1 client over a raw <see cref="Socket"/>: GET / with Content-Length framed
/// responses only (which is all the benchmark servers send). Used for readiness checks, response
/// validation and the idle-connection run.
/// </summary>
internal static class RawHttp
{
    private const int MaxResponse = 8192;
    private static readonly byte[] Request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray();
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();

    /// <summary>Connects a new socket to 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends GET / on <paramref name="socket"/> and reads one complete response.</summary>
    public static async Task<RawResponse> ExchangeAsync(Socket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxResponse];
        var filled = 0;
        var headEnd = -1;
        var contentLength = 0;
        while (headEnd < 0 || filled < headEnd + HeadTerminator.Length + contentLength)
        {
            if (filled == buffer.Length)
            {
                throw new InvalidDataException($"response larger than {MaxResponse} bytes");
            }
            var received = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken)
                .ConfigureAwait(false);
            if (received == 0)
            {
                throw new InvalidDataException($"connection closed after {filled} bytes of the response");
            }
            filled += received;
            if (headEnd < 0)
            {
                headEnd = buffer.AsSpan(0, filled).IndexOf(HeadTerminator);
                if (headEnd >= 0)
                {
                    contentLength = ContentLength(Encoding.Latin1.GetString(buffer, 0, headEnd));
                }
            }
        }
        var head = Encoding.Latin1.GetString(buffer, 0, headEnd);
        var body = Encoding.UTF8.GetString(buffer, headEnd + HeadTerminator.Length, contentLength);
        return new RawResponse(Status(head), head, body);
    }

    /// <summary>One GET / on a fresh connection, bounded by <paramref name="timeout"/>.</summary>
    public static async Task<RawResponse> GetAsync(int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        using var socket = await ConnectAsync(port, timeoutSource.Token).ConfigureAwait(false);
        return await ExchangeAsync(socket, timeoutSource.Token).ConfigureAwait(false);
    }

    private static int Status(string head)
    {
        // "HTTP/1.1 200 OK"
        var parts = head.Split(' ', 3);
        return parts.Length >= 2 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var status)
            ? status
            : throw new InvalidDataException($"bad status line: {head.Split("\r\n")[0]}");
    }

    private static int ContentLength(string head)
    {
        var value = new RawResponse(0, head, "").Header("Content-Length")
            ?? throw new InvalidDataException("response without Content-Length: " + head.Replace("\r\n", " | ", StringComparison.Ordinal));
        var length = int.Parse(value, CultureInfo.InvariantCulture);
        return length <= MaxResponse / 2 ? length : throw new InvalidDataException($"Content-Length {length} too large");
    }
}
