using System.Buffers;

namespace RocketOwin.Internal;

/// <summary>
/// The request body as a read-only stream: bytes already buffered behind the head first, then the socket;
/// framed by Content-Length or chunked coding. The first read sends <c>100 Continue</c> when the client
/// asked for it (RFC 9110 §10.1.1).
/// </summary>
internal sealed class RequestBodyStream : Stream
{
    private readonly HttpExchange _exchange;
    private ChunkedDecoder _chunked;
    private bool _isChunked;
    private long _remaining;
    private bool _started;

    public RequestBodyStream(HttpExchange exchange) => _exchange = exchange;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("The request body is a stream of unknown length; see RequestHead.ContentLength.");

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>True once the whole body has been read (or there was none).</summary>
    public bool IsComplete => _isChunked ? _chunked.IsDone : _remaining == 0;

    /// <summary>True when the handler has started reading (so 100 Continue has been sent if asked for).</summary>
    public bool HasStarted => _started;

    public void Begin(RequestHead head)
    {
        _isChunked = head.IsChunked;
        _chunked.Reset();
        _remaining = head.IsChunked ? -1 : head.ContentLength ?? 0;
        _started = false;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || IsComplete)
        {
            return 0;
        }

        Start();
        while (true)
        {
            var n = TryReadBuffered(buffer);
            if (n > 0 || IsComplete)
            {
                return n;
            }

            if (!_isChunked && _exchange.BufferedInput == 0 && buffer.Length >= 4096)
            {
                // Large reads go straight from the socket into the caller's buffer.
                n = _exchange.ReceiveDirect(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
                _remaining -= n;
                return n;
            }

            _exchange.ReceiveMore();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || IsComplete)
        {
            return 0;
        }

        Start();
        while (true)
        {
            var n = TryReadBuffered(buffer.Span);
            if (n > 0 || IsComplete)
            {
                return n;
            }

            await _exchange.ReceiveMoreAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads and discards what the handler left of the body: true when it ended within <paramref name="limit"/> bytes and
    /// <paramref name="timeout"/>. What is already buffered is discarded at once; the rest is received asynchronously, so a
    /// client that trickles its body holds no worker thread: then the result is null and <paramref name="onEnd"/> gets it
    /// (with the failure that ended the drain, if any). Fails with <see cref="BadRequestException"/> on bad framing.
    /// </summary>
    public bool? Drain(long limit, TimeSpan timeout, Action<HttpExchange, bool, Exception?> onEnd)
    {
        if (IsComplete)
        {
            return true;
        }

        if (!_started && _exchange.Request.ExpectsContinue)
        {
            // The client is waiting for 100 Continue and has not sent the body: nothing to drain, but the connection cannot be reused safely.
            return false;
        }

        _started = true;
        var left = limit;
        if (DrainBuffered(ref left) is { } decided)
        {
            return decided;
        }

        if (_exchange.Connection.Tls is null)
        {
            return UnreadBodyDrain.Start(_exchange, left, timeout, onEnd);
        }

        var rest = DrainRestOverTlsAsync(left, timeout);
        if (rest.IsCompleted)
        {
            return rest.Result;
        }

        _ = EndDrainOverTlsAsync(rest, onEnd);
        return null;
    }

    /// <summary>
    /// Discards the buffered body bytes, counting them against <paramref name="left"/>: true when the body ended within it,
    /// false when it cannot (past the limit, or a declared length that will not fit), null when more must be received.
    /// </summary>
    public bool? DrainBuffered(ref long left)
    {
        Span<byte> scratch = stackalloc byte[4096];
        int n;
        while ((n = TryReadBuffered(scratch)) > 0)
        {
            left -= n;
        }

        if (IsComplete)
        {
            return left >= 0;
        }

        // A declared length past what may still be drained will not fit: do not wait for it.
        return left < 0 || (!_isChunked && _remaining > left) ? false : null;
    }

    public override void Flush()
    {
    }

    /// <summary>The rest of <see cref="Drain"/> over TLS, where every read goes through the SslStream.</summary>
    private async ValueTask<bool> DrainRestOverTlsAsync(long left, TimeSpan timeout)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        using var deadline = new MonitorDeadline(timeout); // no runtime timer (thread) per drain
        try
        {
            while (!IsComplete && left >= 0)
            {
                left -= await ReadAsync(scratch, deadline.Token).ConfigureAwait(false);
            }

            return left >= 0;
        }
        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task EndDrainOverTlsAsync(ValueTask<bool> rest, Action<HttpExchange, bool, Exception?> onEnd)
    {
        var drained = false;
        Exception? failure = null;
        try
        {
            drained = await rest.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        onEnd(_exchange, drained, failure);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read-only.");

    private void Start()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        if (_exchange.Request.ExpectsContinue)
        {
            _exchange.SendContinue();
        }
    }

    private int TryReadBuffered(Span<byte> buffer)
    {
        var input = _exchange.BufferedSpan;
        if (_isChunked)
        {
            var n = _chunked.Decode(input, buffer, _exchange.Limits.MaxRequestBodySize, _exchange.Limits.MaxRequestHeadersTotalSize, out var consumed);
            _exchange.Consume(consumed);
            return n;
        }

        if (input.IsEmpty)
        {
            return 0;
        }

        var count = (int)Math.Min(Math.Min(input.Length, buffer.Length), _remaining);
        input[..count].CopyTo(buffer);
        _exchange.Consume(count);
        _remaining -= count;
        return count;
    }
}
