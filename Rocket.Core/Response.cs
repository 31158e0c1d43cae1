using System.Buffers.Text;
using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// The response to the current request. Set <see cref="StatusCode"/> and <see cref="Headers"/>, then write
/// the body. Nothing goes on the wire until the body outgrows <see cref="ServerLimits.ResponseBufferSize"/>,
/// the handler flushes, or the handler finishes: a response that completes within the buffer is sent with
/// a Content-Length; a longer one without a declared Content-Length is chunked (HTTP/1.1) or
/// close-delimited (HTTP/1.0). HEAD responses carry headers only.
/// </summary>
/// <remarks>
/// One instance per connection, reset for every request; use it only during the request it belongs to,
/// from one thread at a time. Once headers are sent (<see cref="HasStarted"/>), changing the status or
/// headers throws <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed class Response
{
    private static readonly byte[] ServerLine = "Server: Rocket.Owin\r\n"u8.ToArray();
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly HttpExchange _exchange;
    private byte[] _pending;
    private readonly List<(Action<object?> Callback, object? State)> _onStarting = [];
    private int _pendingCount;
    private int _statusCode = 200;
    private string? _reasonPhrase;
    private Framing _framing;
    private long _declaredLength;
    private long _bodyWritten;
    private bool _started;
    private bool _completed;
    private ResponseBodyStream? _body;

    internal Response(HttpExchange exchange, int bufferSize)
    {
        _exchange = exchange;
        _pending = new byte[bufferSize];
        Headers = new ResponseHeaders(this);
    }

    /// <summary>Gives up the body buffer: after a 101 the response is over (the exchange is not reused).</summary>
    internal void ReleaseBuffer() => _pending = [];

    private enum Framing
    {
        NoBody,
        ContentLength,
        Chunked,
        CloseDelimited,
    }

    /// <summary>The status code; 200 until set. 100–999.</summary>
    /// <exception cref="InvalidOperationException">Set after the response started.</exception>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            ThrowIfStarted();
            _statusCode = value is >= 100 and <= 999
                ? value
                : throw new ArgumentOutOfRangeException(nameof(value), value, "A status code is three digits, 100 to 999 (RFC 9110 §15).");
        }
    }

    /// <summary>The reason phrase; null means the standard phrase for <see cref="StatusCode"/>.</summary>
    public string? ReasonPhrase
    {
        get => _reasonPhrase;
        set
        {
            ThrowIfStarted();
            if (value is not null && value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                throw new ArgumentException("A reason phrase cannot contain CR or LF.", nameof(value));
            }

            _reasonPhrase = value;
        }
    }

    /// <summary>The response header fields.</summary>
    public ResponseHeaders Headers { get; }

    /// <summary>The Content-Length the handler declared (via this property or the header), or null.</summary>
    /// <remarks>A declared length is enforced: writing more throws, finishing with less aborts the connection.</remarks>
    public long? ContentLength
    {
        get => Headers.TryGetValue("Content-Length", out var v) && long.TryParse(v, out var n) ? n : null;
        set
        {
            if (value is null)
            {
                Headers.Remove("Content-Length");
            }
            else
            {
                ArgumentOutOfRangeException.ThrowIfNegative(value.Value);
                Headers.Set("Content-Length", value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>True once the status line and headers have been sent (or committed to be sent).</summary>
    public bool HasStarted => _started;

    /// <summary>Bytes of body written so far by the handler.</summary>
    public long BodyBytesWritten => _bodyWritten;

    /// <summary>The body as a write-only stream (writes go to <see cref="Write"/> / <see cref="WriteAsync"/>).</summary>
    public Stream Body => _body ??= new ResponseBodyStream(this);

    /// <summary>
    /// Registers a callback that runs just before the headers are sent, while they can still be changed.
    /// Callbacks run last-registered-first (as OWIN's server.OnSendingHeaders asks).
    /// </summary>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    public void OnStarting(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ThrowIfStarted();
        _onStarting.Add((callback, state));
    }

    /// <summary>Writes body bytes; blocks only when the connection's send buffer is full.</summary>
    /// <exception cref="InvalidOperationException">The status does not allow a body, or more than the declared Content-Length was written.</exception>
    /// <exception cref="IOException">The client went away.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        ThrowIfCompleted();
        if (data.IsEmpty)
        {
            return;
        }

        if (!_started)
        {
            ThrowIfBodyNotAllowed();
            ThrowIfPastDeclaredLength(data.Length);
            if (_pendingCount + data.Length <= _pending.Length)
            {
                data.CopyTo(_pending.AsSpan(_pendingCount));
                _pendingCount += data.Length;
                _bodyWritten += data.Length;
                return;
            }

            Start(final: false);
        }

        var output = _exchange.Output;
        if (!AppendFramed(data, out var direct))
        {
            return;
        }

        if (direct)
        {
            output.Flush();
            _exchange.Connection.Send(data);
            if (_framing == Framing.Chunked)
            {
                output.Write(Crlf);
            }
        }
        else if (output.Count >= _pending.Length)
        {
            output.Flush();
        }
    }

    /// <summary>Writes body bytes asynchronously.</summary>
    /// <inheritdoc cref="Write" path="/exception"/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (data.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        if (!_started)
        {
            ThrowIfBodyNotAllowed();
            ThrowIfPastDeclaredLength(data.Length);
            if (_pendingCount + data.Length <= _pending.Length)
            {
                data.Span.CopyTo(_pending.AsSpan(_pendingCount));
                _pendingCount += data.Length;
                _bodyWritten += data.Length;
                return ValueTask.CompletedTask;
            }

            Start(final: false);
        }

        if (!AppendFramed(data.Span, out var direct))
        {
            return ValueTask.CompletedTask;
        }

        if (direct)
        {
            return WriteDirectAsync(data, cancellationToken);
        }

        return _exchange.Output.Count >= _pending.Length ? _exchange.Output.FlushAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Sends the headers (if not yet sent) and everything written so far. After a flush the response is chunked unless a Content-Length was declared.</summary>
    public void Flush()
    {
        ThrowIfCompleted();
        if (!_started)
        {
            Start(final: false);
        }

        _exchange.Output.Flush();
    }

    /// <summary>Asynchronous <see cref="Flush"/>.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (!_started)
        {
            Start(final: false);
        }

        return _exchange.Output.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of a file from <paramref name="offset"/> as (part of) the body,
    /// with sendfile(2) on plain connections and a pooled buffer on TLS. Declare the Content-Length first
    /// for a length-delimited response.
    /// </summary>
    /// <exception cref="IOException">The file is shorter than asked (it changed while being sent) or the client went away; the connection is then aborted.</exception>
    public async ValueTask SendFileAsync(string path, long offset, long count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfCompleted();
        if (!_started)
        {
            ThrowIfBodyNotAllowed();
            Start(final: false);
        }

        if (count == 0)
        {
            return;
        }

        _bodyWritten += count;
        CheckDeclaredLength();
        if (_exchange.Request.Method == "HEAD" || _framing == Framing.NoBody)
        {
            return;
        }

        if (_framing == Framing.Chunked)
        {
            WriteChunkHeader(count);
        }

        await _exchange.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        await FileSender.SendAsync(_exchange.Connection, path, offset, count, cancellationToken).ConfigureAwait(false);
        if (_framing == Framing.Chunked)
        {
            _exchange.Output.Write(Crlf);
        }
    }

    internal bool IsCompleted => _completed;

    /// <summary>True when the connection may serve another request after this response.</summary>
    internal bool KeepAlive { get; private set; }

    internal void ThrowIfStarted()
    {
        if (_started)
        {
            throw new InvalidOperationException("The response has started: its status and headers were already sent.");
        }
    }

    internal void Reset()
    {
        _statusCode = 200;
        _reasonPhrase = null;
        Headers.Reset();
        _onStarting.Clear();
        _pendingCount = 0;
        _bodyWritten = 0;
        _started = false;
        _completed = false;
        _framing = Framing.NoBody;
        KeepAlive = false;
    }

    /// <summary>Ends the response after the handler finished: sends headers with a Content-Length if not started, the last chunk if chunked.</summary>
    /// <exception cref="InvalidOperationException">A declared Content-Length was not met.</exception>
    internal void Complete()
    {
        if (_completed)
        {
            return;
        }

        if (!_started)
        {
            Start(final: true);
        }
        else if (_framing == Framing.Chunked && _exchange.Request.Method != "HEAD")
        {
            _exchange.Output.Write(LastChunk);
        }
        else if (_framing == Framing.ContentLength && _bodyWritten < _declaredLength && _exchange.Request.Method != "HEAD")
        {
            throw new InvalidOperationException($"The response declared Content-Length {_declaredLength} but only {_bodyWritten} bytes were written.");
        }

        _completed = true;
    }

    /// <summary>Writes the head and the buffered body into the output buffer. The one place framing is decided.</summary>
    private void Start(bool final)
    {
        // RFC 9110 §15.2.2: a 101 switches protocols; sent without an upgrade, the client would wait for a protocol that never comes.
        if (_statusCode == 101 && !_exchange.Upgraded)
        {
            throw new InvalidOperationException("Status 101 needs an upgrade (RequestContext.UpgradeAsync); it cannot be sent as a plain response.");
        }

        for (var i = _onStarting.Count - 1; i >= 0; i--)
        {
            var (callback, state) = _onStarting[i];
            callback(state);
        }

        _onStarting.Clear();
        var request = _exchange.Request;
        var isHead = request.Method == "HEAD";
        var declared = ParseDeclaredLength();
        var appClose = Headers.TryGetValue("Connection", out var connection) && connection.Contains("close", StringComparison.OrdinalIgnoreCase);

        if (_statusCode is < 200 or 204 or 304)
        {
            _framing = Framing.NoBody;
        }
        else if (declared >= 0)
        {
            _framing = Framing.ContentLength;
            _declaredLength = declared;
            // A HEAD response's body is discarded (RFC 9110 §9.3.2), so what the handler wrote cannot contradict the length.
            if (!isHead && (_bodyWritten > declared || (final && _bodyWritten != declared)))
            {
                throw new InvalidOperationException($"The response declared Content-Length {declared} but {_bodyWritten} bytes were written.");
            }
        }
        else if (final && (!isHead || _bodyWritten > 0))
        {
            _framing = Framing.ContentLength;
            _declaredLength = _bodyWritten;
        }
        else if (final)
        {
            _framing = Framing.NoBody; // HEAD with nothing written: no length to announce
        }
        else if (request.Version == HttpVersion.Http11)
        {
            _framing = Framing.Chunked;
        }
        else
        {
            _framing = Framing.CloseDelimited;
        }

        KeepAlive = _exchange.KeepAliveAllowed && request.KeepAlive && !appClose && _framing != Framing.CloseDelimited;
        _started = true;
        WriteHead(request);

        if (_pendingCount > 0 && !isHead)
        {
            if (_framing == Framing.Chunked)
            {
                WriteChunkHeader(_pendingCount);
                _exchange.Output.Write(_pending.AsSpan(0, _pendingCount));
                _exchange.Output.Write(Crlf);
            }
            else
            {
                _exchange.Output.Write(_pending.AsSpan(0, _pendingCount));
            }
        }

        _pendingCount = 0;
    }

    private void WriteHead(RequestHead request)
    {
        var output = _exchange.Output;
        var statusLine = _reasonPhrase is null ? ReasonPhrases.GetStatusLine(_statusCode) : null;
        if (statusLine is not null)
        {
            output.Write(statusLine);
        }
        else
        {
            WriteAscii(output, $"HTTP/1.1 {_statusCode} {_reasonPhrase ?? ReasonPhrases.Get(_statusCode)}\r\n");
        }

        if (!Headers.Contains("Server"))
        {
            output.Write(ServerLine);
        }

        if (!Headers.Contains("Date"))
        {
            output.Write(DateHeader.Line);
        }

        for (var i = 0; i < Headers.Count; i++)
        {
            var name = Headers.NameAt(i);
            if (IsFramingHeader(name) && _statusCode != 101)
            {
                continue;
            }

            var value = Headers.ValueAt(i);
            var span = output.GetSpan(name.Length + value.Length + 4);
            var n = Latin1.Write(name, span);
            span[n++] = (byte)':';
            span[n++] = (byte)' ';
            n += Latin1.Write(value, span[n..]);
            span[n++] = (byte)'\r';
            span[n++] = (byte)'\n';
            output.Advance(n);
        }

        switch (_framing)
        {
            case Framing.ContentLength:
            {
                var span = output.GetSpan(40);
                "Content-Length: "u8.CopyTo(span);
                Utf8Formatter.TryFormat(_declaredLength, span[16..], out var digits);
                span[16 + digits] = (byte)'\r';
                span[17 + digits] = (byte)'\n';
                output.Advance(18 + digits);
                break;
            }

            case Framing.Chunked:
                output.Write("Transfer-Encoding: chunked\r\n"u8);
                break;
            case Framing.NoBody when _statusCode == 304 && Headers.Contains("Content-Length"):
                WriteAscii(output, $"Content-Length: {Headers["Content-Length"]}\r\n");
                break;
        }

        if (_statusCode == 101)
        {
            // Switching protocols: the handler's Connection/Upgrade fields were written above.
        }
        else if (!KeepAlive && request.Version == HttpVersion.Http11)
        {
            output.Write("Connection: close\r\n"u8);
        }
        else if (KeepAlive && request.Version == HttpVersion.Http10)
        {
            output.Write("Connection: keep-alive\r\n"u8);
        }

        output.Write(Crlf);
    }

    /// <summary>Counts body bytes and appends them with framing when they fit the output buffer; false when nothing goes on the wire (HEAD, no-body status).</summary>
    private bool AppendFramed(ReadOnlySpan<byte> data, out bool direct)
    {
        direct = false;
        _bodyWritten += data.Length;
        CheckDeclaredLength();
        if (_framing == Framing.NoBody || _exchange.Request.Method == "HEAD")
        {
            return false;
        }

        if (_framing == Framing.Chunked)
        {
            WriteChunkHeader(data.Length);
        }

        var output = _exchange.Output;
        if (data.Length <= output.Free - 2 || data.Length < _pending.Length)
        {
            output.Write(data);
            if (_framing == Framing.Chunked)
            {
                output.Write(Crlf);
            }

            return true;
        }

        direct = true;
        return true;
    }

    private async ValueTask WriteDirectAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Pending bytes (typically the head) and the body leave in one gathered send, as nginx's writev does.
        await _exchange.Output.FlushWithAsync(data, cancellationToken).ConfigureAwait(false);
        if (_framing == Framing.Chunked)
        {
            _exchange.Output.Write(Crlf);
        }
    }

    private void WriteChunkHeader(long length)
    {
        var span = _exchange.Output.GetSpan(20);
        Utf8Formatter.TryFormat(length, span, out var n, new System.Buffers.StandardFormat('X'));
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        _exchange.Output.Advance(n);
    }

    /// <summary>Before the head is sent, checks a write against a Content-Length the handler declared, so the write itself throws (as documented).</summary>
    private void ThrowIfPastDeclaredLength(int length)
    {
        if (Headers.Count > 0 && _exchange.Request.Method != "HEAD" && ParseDeclaredLength() is var declared and >= 0 && _bodyWritten + length > declared)
        {
            throw new InvalidOperationException($"The response body is longer than its declared Content-Length {declared}.");
        }
    }

    private void CheckDeclaredLength()
    {
        if (_framing == Framing.ContentLength && _bodyWritten > _declaredLength && _exchange.Request.Method != "HEAD")
        {
            throw new InvalidOperationException($"The response body is longer than its declared Content-Length {_declaredLength}.");
        }
    }

    private long ParseDeclaredLength()
    {
        if (!Headers.TryGetValue("Content-Length", out var text))
        {
            return -1;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new InvalidOperationException($"The response's Content-Length '{text}' is not a non-negative integer.");
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The response is complete; nothing more can be written.");
        }
    }

    private void ThrowIfBodyNotAllowed()
    {
        if (_statusCode is < 200 or 204 or 304)
        {
            throw new InvalidOperationException($"A {_statusCode} response cannot have a body (RFC 9110 §6.4.1).");
        }
    }

    private static bool IsFramingHeader(string name)
        => name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
           || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
           || name.Equals("Connection", StringComparison.OrdinalIgnoreCase);

    private static void WriteAscii(OutputBuffer output, string text)
    {
        var span = output.GetSpan(text.Length);
        output.Advance(Latin1.Write(text, span));
    }
}
