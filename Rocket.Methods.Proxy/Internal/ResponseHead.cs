namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// An upstream response head as <see cref="ResponseHeadParser"/> found it: the status, where each field's name
/// and value lie in the connection's read buffer, and the framing the fields declare.
/// </summary>
/// <remarks>One per connection, reused for every response on it; offsets are valid until the buffer is compacted.</remarks>
internal sealed class ResponseHead
{
    /// <summary>Most field lines a response head may have (nginx and SocketsHttpHandler have no count limit; 64 KiB of head bounds them anyway).</summary>
    public const int MaxFields = 256;

    private int[] _fields = new int[4 * 32];

    public int Status { get; set; }

    /// <summary>1 for HTTP/1.1, 0 for HTTP/1.0.</summary>
    public int VersionMinor { get; set; }

    /// <summary>Bytes of the head including its empty line.</summary>
    public int Length { get; set; }

    public int FieldCount { get; private set; }

    /// <summary>The one Content-Length value (repeats of the same value allowed); -1 when there is none.</summary>
    public long ContentLength { get; set; }

    public bool HasTransferEncoding { get; set; }

    /// <summary>Transfer-Encoding ends in chunked (RFC 9112 §6.3 item 4); with another final coding the body is close-delimited.</summary>
    public bool Chunked { get; set; }

    /// <summary>Connection: close, or HTTP/1.0 without Connection: keep-alive: the upstream closes after this response.</summary>
    public bool Close { get; set; }

    /// <summary>Connection: keep-alive seen (HTTP/1.0's opt-in).</summary>
    public bool KeepAlive { get; set; }

    /// <summary>The Connection field lists more than close/keep-alive: field names the copier must drop (RFC 9110 §7.6.1).</summary>
    public bool ConnectionNamesFields { get; set; }

    /// <summary>Why the head cannot be relayed (RFC 9112 §6.3: a proxy answers 502 to a malformed response), or null.</summary>
    public string? Malformed { get; set; }

    public void Reset()
    {
        Status = 0;
        VersionMinor = 1;
        Length = 0;
        FieldCount = 0;
        ContentLength = -1;
        HasTransferEncoding = false;
        Chunked = false;
        Close = false;
        KeepAlive = false;
        ConnectionNamesFields = false;
        Malformed = null;
    }

    public void AddField(int nameStart, int nameLength, int valueStart, int valueLength)
    {
        var at = FieldCount * 4;
        if (at + 4 > _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        _fields[at] = nameStart;
        _fields[at + 1] = nameLength;
        _fields[at + 2] = valueStart;
        _fields[at + 3] = valueLength;
        FieldCount++;
    }

    public ReadOnlySpan<byte> Name(ReadOnlySpan<byte> buffer, int index) => buffer.Slice(_fields[index * 4], _fields[(index * 4) + 1]);

    public ReadOnlySpan<byte> Value(ReadOnlySpan<byte> buffer, int index) => buffer.Slice(_fields[(index * 4) + 2], _fields[(index * 4) + 3]);
}
