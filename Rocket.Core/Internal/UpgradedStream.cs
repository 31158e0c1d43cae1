using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RocketOwin.Internal;

/// <summary>
/// The raw connection after <c>101 Switching Protocols</c>, and all the server keeps of the exchange that asked for it:
/// reads return bytes the client sent after the request head (already buffered first, then the socket), writes go
/// straight out. Used for WebSocket and other Upgrade tunnels; the connection closes when the handler completes.
/// </summary>
/// <remarks>
/// <para>
/// A slim state of its own, so that an open upgraded connection (a WebSocket may stay open for hours) holds none of the
/// per-request HTTP objects: the request's exchange (head, headers, response, body streams, buffers, context) goes back
/// to the server's pool once the handler has switched protocols and returned to the core, and this object finishes the
/// request when the handler completes (<see cref="FinishWhenHandled"/>): the log line with the duration and the bytes
/// each way, the connection's close, the counts of requests in flight.
/// </para>
/// <para>
/// Small asynchronous reads (a WebSocket frame header is 2-14 bytes) would cost a receive system call each: on a plain
/// socket they wait for data with a zero-byte receive (no buffer held while the connection is idle, as Kestrel's
/// WaitForDataBeforeAllocatingBuffer), then take everything that arrived into a pooled read-ahead buffer, returned to
/// the pool once consumed. TLS needs none of this: SslStream buffers whole records itself. With Rocket's epoll loop the
/// wait is the connection's registration there instead (UpgradedStream.Loop.cs).
/// </para>
/// </remarks>
internal sealed partial class UpgradedStream : Stream
{
    private const int ReadAheadSize = 4096;
    private readonly ConnectionTransport _connection;
    private readonly string _method;
    private readonly string _target;
    private readonly long _requestStart;
    private CancellationTokenSource? _aborted;
    private byte[]? _ahead;
    private int _aheadStart;
    private int _aheadEnd;
    private SendProgress _sendProgress;
    private Worker? _servedBy;
    private ValueTask _handled;

    /// <summary>Takes from <paramref name="exchange"/> what the upgraded connection needs; keeps no reference to it.</summary>
    /// <param name="exchange">The request that switched protocols, its 101 sent.</param>
    /// <param name="aborted">The request's abort source if a handler asked for <see cref="RequestContext.RequestAborted"/>: it now fires when the upgraded connection is aborted.</param>
    public UpgradedStream(HttpExchange exchange, CancellationTokenSource? aborted)
    {
        _connection = exchange.Connection;
        _lastWrite = Environment.TickCount; // the 101 just went out
        var request = exchange.Request;
        _method = request.Method;
        _target = request.Target;
        _requestStart = exchange.RequestStart;
        _aborted = aborted;
        if (exchange.BufferedInput is var buffered and > 0)
        {
            // Bytes the client sent after the head: the first read takes them, like read-ahead bytes (counted when taken).
            _ahead = ArrayPool<byte>.Shared.Rent(buffered);
            exchange.BufferedSpan.CopyTo(_ahead);
            (_aheadStart, _aheadEnd) = (0, buffered);
            exchange.Consume(buffered);
        }
    }

    /// <summary>Bytes read from the connection after the 101, for the log line at its close.</summary>
    public long BytesIn { get; private set; }

    /// <summary>Bytes written to the connection after the 101.</summary>
    public long BytesOut { get; private set; }

    /// <summary>The <see cref="ServerLimits.IOTimeout"/> on sends (see <see cref="SendProgress"/>); called by the monitor only.</summary>
    public bool SendStalled(long now, long timeoutTicks) => _sendProgress.Stalled(_connection, now, timeoutTicks);

    /// <summary>The server gave up waiting (Stop, after the shutdown timeout): fires the request's abort token if a handler took it.</summary>
    public void Abort()
    {
        try
        {
            _aborted?.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered by the application threw; aborting goes on regardless.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Finishes the request when <paramref name="pending"/>, the handler's task, completes: the handler switched protocols
    /// and returned to the core, whose exchange is back in the pool (see <see cref="HttpExchange.TryHandOffHandler"/>).
    /// </summary>
    public void FinishWhenHandled(ValueTask pending, Worker worker)
    {
        _servedBy = worker;
        _handled = pending;
        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnHandled);
    }

    /// <summary>The handler completed (with <paramref name="failure"/> if it threw): logs the connection's end and closes it.</summary>
    public void EndConnection(Exception? failure)
    {
        if (failure is not null && !ClientGone.Is(failure))
        {
            RocketLog.Errors.Error(failure, "Upgraded connection {0} from {1} failed.", _connection.Id, _connection.RemoteEndPoint);
        }

        RequestLog.UpgradedClosed(_connection, _method, _target, _requestStart, BytesIn, BytesOut);
        _connection.Close(abort: failure is not null);
    }

    private void OnHandled()
    {
        var handled = _handled;
        _handled = default;
        Exception? failure = null;
        try
        {
            handled.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            failure = e;
        }

        var server = _connection.Server;
        try
        {
            EndConnection(failure);
        }
        finally
        {
            server.RequestFinished();
            var worker = _servedBy;
            _servedBy = null;
            worker?.LeaveRequest();
        }

        server.Resume(_connection, TurnResult.Closed);
    }

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
        var n = TakeReadAhead(buffer);
        n = n > 0 ? n : _connection.Tls is null ? ReceiveWaiting(buffer) : _connection.Receive(buffer);
        BytesIn += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = TakeReadAhead(buffer.Span);
        if (n > 0)
        {
            BytesIn += n;
            return ValueTask.FromResult(n);
        }

        if (_connection.Epoll is { } epoll)
        {
            return ReadThroughLoopAsync(epoll, buffer, cancellationToken);
        }

        if (buffer.Length < ReadAheadSize && _connection.Tls is null)
        {
            return ReadAheadAsync(buffer, cancellationToken);
        }

        var pending = _connection.ReceiveAsync(buffer, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            BytesIn += pending.Result;
            return pending;
        }

        return CountAsync(pending);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        BeginWriting();
        try
        {
            if (_connection.Tls is null)
            {
                SendWaiting(buffer);
            }
            else
            {
                _connection.Send(buffer);
            }
        }
        finally
        {
            EndWriting(IsCloseFrame(buffer));
        }

        BytesOut += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Counted when handed to the socket: a send that fails ends the connection anyway.
        BytesOut += buffer.Length;
        var state = Volatile.Read(ref _writeState);
        if ((state & Heartbeat) != 0 || Interlocked.CompareExchange(ref _writeState, state | Writing, state) != state)
        {
            return WriteAfterHeartbeatAsync(buffer, cancellationToken);
        }

        var close = IsCloseFrame(buffer.Span);
        ValueTask pending;
        try
        {
            pending = _connection.SendAsync(buffer, cancellationToken);
        }
        catch
        {
            EndWriting(close);
            throw;
        }

        if (pending.IsCompleted)
        {
            EndWriting(close);
            return pending;
        }

        return EndWritingAsync(pending, close);
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
        // The state machine lives as long as the connection waits: only what crosses the wait is in it (ReadAfterWait has the rest).
        while (true)
        {
            try
            {
                await _connection.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new IOException($"receive failed: {e.SocketErrorCode}", e);
            }

            var n = ReadAfterWait(buffer.Span);
            if (n >= 0)
            {
                return n;
            }
        }
    }

    /// <summary>Takes what arrived into a pooled read-ahead buffer and hands out what fits; -1: nothing there after all (wait again).</summary>
    private int ReadAfterWait(Span<byte> buffer)
    {
        var ahead = ArrayPool<byte>.Shared.Rent(ReadAheadSize);
        int n;
        try
        {
            n = _connection.ReceiveNow(ahead);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(ahead);
            throw;
        }

        if (n <= 0)
        {
            ArrayPool<byte>.Shared.Return(ahead);
            return n < 0 ? -1 : 0;
        }

        // Counted as handed out: the rest is counted when a later read takes it.
        var taken = Math.Min(n, buffer.Length);
        BytesIn += taken;
        ahead.AsSpan(0, taken).CopyTo(buffer);
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

    /// <summary>A synchronous read (the application's choice): waits in poll(2) on this thread, up to the I/O timeout.</summary>
    private int ReceiveWaiting(Span<byte> buffer)
    {
        var connection = _connection;
        while (true)
        {
            var n = connection.ReceiveNow(buffer);
            if (n >= 0)
            {
                return n;
            }

            if (!connection.Socket.Poll(_connection.Server.Limits.IOTimeout, SelectMode.SelectRead))
            {
                throw new TimeoutException("receive timed out");
            }
        }
    }

    /// <summary>A synchronous write (the application's choice): waits in poll(2) on this thread while the socket buffer is full, up to the I/O timeout each time.</summary>
    private void SendWaiting(ReadOnlySpan<byte> buffer)
    {
        var connection = _connection;
        connection.BeginWrite(buffer.Length);
        try
        {
            while (!buffer.IsEmpty)
            {
                var n = SendNow(connection, buffer, out var error);
                if (error == SocketError.Success)
                {
                    buffer = buffer[n..];
                }
                else if (error != SocketError.WouldBlock)
                {
                    throw new IOException($"send failed: {error}", new SocketException((int)error));
                }
                else if (!connection.Socket.Poll(_connection.Server.Limits.IOTimeout, SelectMode.SelectWrite))
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

    /// <summary>A send that never blocks: the socket is non-blocking (RequestContext.UpgradeAsync), or on Rocket's loop, where Socket.Send would make the runtime's SocketAsyncContext.</summary>
    private static int SendNow(ConnectionTransport connection, ReadOnlySpan<byte> data, out SocketError error)
        => connection.Epoll is null ? connection.Socket.Send(data, SocketFlags.None, out error) : EpollNative.SendNow(connection.Socket.SafeHandle, data, out error);

    /// <summary>Serves bytes left in the read-ahead buffer (the caller counts them); the buffer goes back to the pool once empty.</summary>
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
        BytesIn += n;
        return n;
    }
}
