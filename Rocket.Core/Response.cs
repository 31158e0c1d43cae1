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
    private readonly HttpExchange _exchange;
    private readonly ResponseWriter _writer;
    private byte[] _pending;
    private List<(Action<object?> Callback, object? State)>? _onStarting;
    private int _pendingCount;
    private int _statusCode = 200;
    private string? _reasonPhrase;
    private long _bodyWritten;
    private bool _started;
    private bool _completed;
    private ResponseBodyStream? _body;

    internal Response(HttpExchange exchange, int bufferSize)
    {
        _exchange = exchange;
        _pending = new byte[bufferSize];
        Headers = new ResponseHeaders(this);
        _writer = new ResponseWriter(exchange, this);
    }

    /// <summary>Gives up the body buffer: after a 101 the response is over (the exchange is not reused).</summary>
    internal void ReleaseBuffer()
    {
        _pending = [];
        _onStarting = null;
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
        (_onStarting ??= []).Add((callback, state));
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

        _bodyWritten += data.Length;
        if (!_writer.AppendFramed(data, _pending.Length, out var direct))
        {
            return;
        }

        if (direct)
        {
            _writer.WriteDirect(data);
        }
        else if (_exchange.Output.Count >= _pending.Length)
        {
            _exchange.Output.Flush();
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

        _bodyWritten += data.Length;
        if (!_writer.AppendFramed(data.Span, _pending.Length, out var direct))
        {
            return ValueTask.CompletedTask;
        }

        if (direct)
        {
            return _writer.WriteDirectAsync(data, cancellationToken);
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
        if (!await BeginDirectBodyAsync(count, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await FileSender.SendAsync(_exchange.Connection, path, offset, count, cancellationToken).ConfigureAwait(false);
        _writer.EndBodyWrite();
    }

    /// <summary>
    /// Starts <paramref name="count"/> body bytes that the caller sends on the connection itself, around the output buffer
    /// (a file's sendfile(2), the proxy's splice(2)): the head and everything buffered go out first. Then
    /// <see cref="EndDirectBody"/>. False when nothing is to go on the wire (count 0, HEAD, a status without a body).
    /// </summary>
    internal async ValueTask<bool> BeginDirectBodyAsync(long count, CancellationToken cancellationToken)
    {
        ThrowIfCompleted();
        if (!_started)
        {
            ThrowIfBodyNotAllowed();
            Start(final: false);
        }

        if (count == 0)
        {
            return false;
        }

        _bodyWritten += count;
        if (!_writer.BeginBodyWrite(count))
        {
            return false;
        }

        await _exchange.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Ends a body part begun with <see cref="BeginDirectBodyAsync"/> (its chunk's CRLF when chunked).</summary>
    internal void EndDirectBody() => _writer.EndBodyWrite();

    /// <summary>
    /// Sends an interim (1xx) response now, ahead of the final one: typically 103 Early Hints with <c>Link</c> fields
    /// (RFC 8297), so the client can start fetching what the final response will need while the handler still works.
    /// The status line and <paramref name="fields"/> go out at once; the response itself is unchanged and still to come.
    /// </summary>
    /// <param name="statusCode">102 to 199. 100 Continue is the server's own (sent when the handler first reads a body the client
    /// asked to continue) and 101 is <see cref="RequestContext.UpgradeAsync"/>'s.</param>
    /// <param name="fields">The interim response's header fields, or null for none. Names must be tokens, values without CR, LF or NUL.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>True when sent; false when the client speaks HTTP/1.0, which knows no interim responses (RFC 9110 §15.2: a server
    /// must not send it one), so the call is a no-op there.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 102 to 199.</exception>
    /// <exception cref="ArgumentException">A field name or value is not allowed.</exception>
    /// <exception cref="InvalidOperationException">The response has started (or is complete): an interim response must precede the final one.</exception>
    /// <exception cref="IOException">The client went away.</exception>
    public ValueTask<bool> SendInterimAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>>? fields, CancellationToken cancellationToken = default)
    {
        if (statusCode is < 102 or > 199)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "An interim response is 102 to 199 (RFC 9110 §15.2); 100 and 101 are the server's own.");
        }

        ThrowIfCompleted();
        ThrowIfStarted();
        fields ??= [];
        for (var i = 0; i < fields.Count; i++)
        {
            ResponseHeaders.ValidateField(fields[i].Key, fields[i].Value);
        }

        // RFC 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client".
        if (_exchange.Request.Version != HttpVersion.Http11)
        {
            return ValueTask.FromResult(false);
        }

        _writer.WriteInterim(statusCode, fields);
        return FlushInterimAsync(cancellationToken);
    }

    internal bool IsCompleted => _completed;

    /// <summary>True when the connection may serve another request after this response.</summary>
    internal bool KeepAlive => _writer.KeepAlive;

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
        _onStarting?.Clear();
        _pendingCount = 0;
        _bodyWritten = 0;
        _started = false;
        _completed = false;
        _writer.Reset();
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
        else
        {
            _writer.Complete();
        }

        _completed = true;
    }

    private async ValueTask<bool> FlushInterimAsync(CancellationToken cancellationToken)
    {
        await _exchange.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs the OnStarting callbacks, then has the writer frame and write the head and the buffered body.</summary>
    private void Start(bool final)
    {
        // RFC 9110 §15.2.2: a 101 switches protocols; sent without an upgrade, the client would wait for a protocol that never comes.
        if (_statusCode == 101 && !_exchange.Upgraded)
        {
            throw new InvalidOperationException("Status 101 needs an upgrade (RequestContext.UpgradeAsync); it cannot be sent as a plain response.");
        }

        if (_onStarting is { } onStarting)
        {
            for (var i = onStarting.Count - 1; i >= 0; i--)
            {
                var (callback, state) = onStarting[i];
                callback(state);
            }

            onStarting.Clear();
        }
        var appClose = Headers.TryGetValue("Connection", out var connection) && connection.Contains("close", StringComparison.OrdinalIgnoreCase);
        _writer.DecideFraming(ParseDeclaredLength(), final, appClose);
        _started = true;
        _writer.WriteHead(_pending.AsSpan(0, _pendingCount));
        _pendingCount = 0;
    }

    /// <summary>Before the head is sent, checks a write against a Content-Length the handler declared, so the write itself throws (as documented).</summary>
    private void ThrowIfPastDeclaredLength(int length)
    {
        if (Headers.Count > 0 && _exchange.Request.Method != "HEAD" && ParseDeclaredLength() is var declared and >= 0 && _bodyWritten + length > declared)
        {
            throw new InvalidOperationException($"The response body is longer than its declared Content-Length {declared}.");
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
}
