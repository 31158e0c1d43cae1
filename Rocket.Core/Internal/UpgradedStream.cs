using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RocketOwin.Internal;

/// <summary>
/// The raw connection after <c>101 Switching Protocols</c>: reads return bytes the client sent after the
/// request head (already buffered first, then the socket), writes go straight out. Used for WebSocket and
/// other Upgrade tunnels; the connection closes when the handler completes.
/// </summary>
/// <remarks>
/// Small asynchronous reads (a WebSocket frame header is 2-14 bytes) would cost a receive system call each: on a plain
/// socket they wait for data with a zero-byte receive (no buffer held while the connection is idle, as Kestrel's
/// WaitForDataBeforeAllocatingBuffer), then take everything that arrived into a pooled read-ahead buffer, returned to
/// the pool once consumed. TLS needs none of this: SslStream buffers whole records itself.
/// </remarks>
internal sealed class UpgradedStream : Stream
{
    private const int ReadAheadSize = 4096;
    private readonly HttpExchange _exchange;
    private byte[]? _ahead;
    private int _aheadStart;
    private int _aheadEnd;

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
        n = n > 0 ? n : TakeReadAhead(buffer);
        n = n > 0 ? n : _exchange.Connection.Tls is null ? ReceiveWaiting(buffer) : _exchange.Connection.Receive(buffer);
        _exchange.UpgradedBytesIn += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = TakeBuffered(buffer.Span);
        n = n > 0 ? n : TakeReadAhead(buffer.Span);
        if (n > 0)
        {
            _exchange.UpgradedBytesIn += n;
            return ValueTask.FromResult(n);
        }

        if (buffer.Length < ReadAheadSize && _exchange.Connection.Tls is null)
        {
            return ReadAheadAsync(buffer, cancellationToken);
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
        if (_exchange.Connection.Tls is null)
        {
            SendWaiting(buffer);
        }
        else
        {
            _exchange.Connection.Send(buffer);
        }

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

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ahead is { } ahead)
        {
            _ahead = null;
            ArrayPool<byte>.Shared.Return(ahead);
        }

        base.Dispose(disposing);
    }

    /// <remarks>
    /// The socket is non-blocking (RequestContext.UpgradeAsync), so the receive after the wait never blocks: a zero-byte
    /// receive is only a hint (the runtime completes it on any readiness notification, also a stale one for bytes another
    /// thread has read meanwhile: dotnet/corefx#28098), and this continuation may run on the socket engine's own thread (inline completions,
    /// as the rocket command runs). A blocking receive there on a quiet client once stalled every connection of that
    /// engine for the I/O timeout. Nothing read: wait again, still holding no buffer.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadAheadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var socket = _exchange.Connection.Socket;
        while (true)
        {
            try
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new IOException($"receive failed: {e.SocketErrorCode}", e);
            }

            var ahead = ArrayPool<byte>.Shared.Rent(ReadAheadSize);
            int n;
            try
            {
                n = _exchange.Connection.ReceiveNow(ahead);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(ahead);
                throw;
            }

            if (n <= 0)
            {
                ArrayPool<byte>.Shared.Return(ahead);
                if (n < 0)
                {
                    continue;
                }

                return 0;
            }

            // Counted as handed out: the rest is counted when a later read takes it.
            var taken = Math.Min(n, buffer.Length);
            _exchange.UpgradedBytesIn += taken;
            ahead.AsSpan(0, taken).CopyTo(buffer.Span);
            if (taken == n)
            {
                ArrayPool<byte>.Shared.Return(ahead);
            }
            else
            {
                (_ahead, _aheadStart, _aheadEnd) = (ahead, taken, n);
            }

            return taken;
        }
    }

    /// <summary>A synchronous read (the application's choice): waits in poll(2) on this thread, up to the I/O timeout.</summary>
    private int ReceiveWaiting(Span<byte> buffer)
    {
        var connection = _exchange.Connection;
        while (true)
        {
            var n = connection.ReceiveNow(buffer);
            if (n >= 0)
            {
                return n;
            }

            if (!connection.Socket.Poll(_exchange.Server.Limits.IOTimeout, SelectMode.SelectRead))
            {
                throw new TimeoutException("receive timed out");
            }
        }
    }

    /// <summary>A synchronous write (the application's choice): waits in poll(2) on this thread while the socket buffer is full, up to the I/O timeout each time.</summary>
    private void SendWaiting(ReadOnlySpan<byte> buffer)
    {
        var connection = _exchange.Connection;
        connection.BeginWrite(buffer.Length);
        try
        {
            while (!buffer.IsEmpty)
            {
                var n = connection.Socket.Send(buffer, SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    buffer = buffer[n..];
                }
                else if (error != SocketError.WouldBlock)
                {
                    throw new IOException($"send failed: {error}", new SocketException((int)error));
                }
                else if (!connection.Socket.Poll(_exchange.Server.Limits.IOTimeout, SelectMode.SelectWrite))
                {
                    throw new IOException("send timed out", new TimeoutException());
                }
            }
        }
        finally
        {
            connection.EndWrite();
        }
    }

    /// <summary>Serves bytes left in the read-ahead buffer (already counted); the buffer goes back to the pool once empty.</summary>
    private int TakeReadAhead(Span<byte> buffer)
    {
        if (_ahead is not { } ahead || buffer.IsEmpty)
        {
            return 0;
        }

        var n = Math.Min(_aheadEnd - _aheadStart, buffer.Length);
        ahead.AsSpan(_aheadStart, n).CopyTo(buffer);
        _aheadStart += n;
        if (_aheadStart == _aheadEnd)
        {
            _ahead = null;
            ArrayPool<byte>.Shared.Return(ahead);
        }

        return n;
    }

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
