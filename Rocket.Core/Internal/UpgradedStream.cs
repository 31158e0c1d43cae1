namespace RocketOwin.Internal;

/// <summary>
/// The raw connection after <c>101 Switching Protocols</c>: reads return bytes the client sent after the
/// request head (already buffered first, then the socket), writes go straight out. Used for WebSocket and
/// other Upgrade tunnels; the connection closes when the handler completes.
/// </summary>
internal sealed class UpgradedStream : Stream
{
    private readonly HttpExchange _exchange;

    public UpgradedStream(HttpExchange exchange) => _exchange = exchange;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = TakeBuffered(buffer);
        n = n > 0 ? n : _exchange.Connection.Receive(buffer);
        _exchange.UpgradedBytesIn += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = TakeBuffered(buffer.Span);
        if (n > 0)
        {
            _exchange.UpgradedBytesIn += n;
            return ValueTask.FromResult(n);
        }

        var pending = _exchange.Connection.ReceiveAsync(buffer, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            _exchange.UpgradedBytesIn += pending.Result;
            return pending;
        }

        return CountAsync(pending);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _exchange.Connection.Send(buffer);
        _exchange.UpgradedBytesOut += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Counted when handed to the socket: a send that fails ends the connection anyway.
        _exchange.UpgradedBytesOut += buffer.Length;
        return _exchange.Connection.SendAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async ValueTask<int> CountAsync(ValueTask<int> pending)
    {
        var n = await pending.ConfigureAwait(false);
        _exchange.UpgradedBytesIn += n;
        return n;
    }

    private int TakeBuffered(Span<byte> buffer)
    {
        var buffered = _exchange.BufferedSpan;
        if (buffered.IsEmpty || buffer.IsEmpty)
        {
            return 0;
        }

        var n = Math.Min(buffered.Length, buffer.Length);
        buffered[..n].CopyTo(buffer);
        _exchange.Consume(n);
        return n;
    }
}
