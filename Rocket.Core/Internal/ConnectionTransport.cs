using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// The engine's side of one client connection: the socket (or TLS stream over it), its active/idle/closed state,
/// the zero-byte wait that hands it to the monitor, blocking and asynchronous reads and writes with their deadlines,
/// and closing. Handlers see it through the public <see cref="Connection"/> facade.
/// </summary>
/// <remarks>Served by at most one thread at a time; the monitor and Stop touch it only through the state transitions.</remarks>
internal sealed partial class ConnectionTransport
{
    private static long _nextId;
    private Action? _onReadable;
    private ValueTask<int> _pendingWait;
    private List<ArraySegment<byte>>? _gather;
    private int _state;
    private long _writeDeadline;
    private long _handshakeDeadline;
    private int _stalled;
    private bool _wakeUnconfirmed;
    private EpollSocket? _epoll;

    /// <param name="socket">The accepted socket.</param>
    /// <param name="server">The owner: told when the connection becomes readable while idle, and when it closes.</param>
    /// <param name="isSecure">True on an HTTPS interface (the TLS stream is set once the handshake is done).</param>
    public ConnectionTransport(Socket socket, ServerCore server, bool isSecure)
    {
        Socket = socket;
        Server = server;
        Id = Interlocked.Increment(ref _nextId);
        CreatedAt = DateTimeOffset.UtcNow;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        IsSecure = isSecure;
        Public = new Connection(this);
    }

    /// <summary>What handlers see of this connection.</summary>
    public Connection Public { get; }

    /// <summary>A number unique within the process, for logs and correlation.</summary>
    public long Id { get; }

    /// <summary>When the connection was accepted.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The client's address and port.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The server's address and port this connection arrived on.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>True on an HTTPS interface.</summary>
    public bool IsSecure { get; }

    public Socket Socket { get; }

    /// <summary>The server that owns the connection: it re-queues it when readable and drops it from its table when closed.</summary>
    public ServerCore Server { get; }

    public SslStream? Tls { get; set; }

    /// <summary>The per-request state while a request is in progress or bytes are buffered; null while idle.</summary>
    public HttpExchange? Exchange { get; set; }

    /// <summary>After a 101: the upgraded connection's own state (the exchange is then back in the pool, or going); else null.</summary>
    public UpgradedStream? Upgraded { get; set; }

    /// <summary>Slot in the connection table (for the monitor's sweep and for Stop).</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Stopwatch ticks when the connection last went idle.</summary>
    public long IdleSince { get; private set; }

    /// <summary>Stopwatch ticks when the current request's first byte arrived (or the connection was accepted), 0 when no request is being read.</summary>
    public long HeadStartedAt { get; set; }

    /// <summary>
    /// Stopwatch ticks by which a TLS handshake in progress must finish (<see cref="ServerLimits.TlsHandshakeTimeout"/>;
    /// the monitor's sweep cuts it after that), 0 when no handshake is in progress.
    /// </summary>
    public long HandshakeDeadline
    {
        get => Volatile.Read(ref _handshakeDeadline);
        set => Volatile.Write(ref _handshakeDeadline, value);
    }

    /// <summary>True when the last readiness check found data (or EOF) waiting, so one receive will not block.</summary>
    public bool KnownReadable { get; set; }

    /// <summary>Stopwatch ticks by which the send in progress must finish (see <see cref="ServerLimits.MinResponseDataRate"/>; long.MaxValue: no minimum rate); 0 when no send is in progress.</summary>
    public long WriteDeadline => Volatile.Read(ref _writeDeadline);

    /// <summary>True once the monitor cut a transfer that fell below a minimum data rate.</summary>
    public bool Stalled => Volatile.Read(ref _stalled) != 0;

    public bool IsClosed => Volatile.Read(ref _state) == ConnectionState.Closed;

    public bool IsIdle => Volatile.Read(ref _state) == ConnectionState.Idle;

    /// <summary>
    /// Hands the connection to the monitor until bytes arrive. Returns true when bytes (or EOF) are
    /// already there: the caller keeps the connection and goes on serving it. Returns false when the
    /// monitor now owns it: the caller must not touch it again.
    /// </summary>
    public bool WaitForData()
    {
        IdleSince = System.Diagnostics.Stopwatch.GetTimestamp();
        Volatile.Write(ref _state, ConnectionState.Idle);
        ValueTask<int> wait = default;
        bool completed;
#pragma warning disable CA2012 // Consumed exactly once: at once when complete, else in OnReadable.
        try
        {
            // A zero-byte read completes when the socket is readable without taking a buffer (Kestrel does the same).
            if (Tls is null && EpollLoop.Instance is { } loop)
            {
                // Rocket's own loop (ROCKET_EPOLL=1): registered once, readiness known without a call; may be stale when true.
                _epoll ??= loop.Register(Socket);
                completed = _epoll.TryWait(_onReadable ??= OnReadable);

                // Only when it completed: otherwise the loop owns the connection now and OnReadable may already have run.
                if (completed)
                {
                    _wakeUnconfirmed = true;
                }
            }
            else if (Tls is null)
            {
                completed = IdleWait.Start(this);
            }
            else
            {
                wait = Tls.ReadAsync(Memory<byte>.Empty);
                completed = wait.IsCompleted;
            }
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            // Closed under us (the monitor or Stop got it while idle): theirs. Otherwise the next receive reports the failure.
            if (Interlocked.CompareExchange(ref _state, ConnectionState.Active, ConnectionState.Idle) != ConnectionState.Idle)
            {
                return false;
            }

            KnownReadable = true;
            return true;
        }
#pragma warning restore CA2012

        // A zero-byte receive that completes at once has really looked (the runtime peeks): the bytes are there.
        if (completed)
        {
            Consume(wait);
            if (Interlocked.CompareExchange(ref _state, ConnectionState.Active, ConnectionState.Idle) != ConnectionState.Idle)
            {
                return false; // the monitor closed it meanwhile
            }

            KnownReadable = true;
            return true;
        }

        if (Tls is not null)
        {
            _pendingWait = wait;

            // Made at the first wait: a connection upgraded by its first request never needs it (64 B for as long as it stays open).
            wait.GetAwaiter().UnsafeOnCompleted(_onReadable ??= OnReadable);
        }

        return false;
    }

    /// <summary>
    /// Called by the monitor and by Stop: closes an idle connection if it is still idle, first sending
    /// <paramref name="beforeClose"/> when the socket can take it at once. False when a worker got it first.
    /// </summary>
    public bool TryCloseIdle(byte[]? beforeClose)
    {
        if (Interlocked.CompareExchange(ref _state, ConnectionState.Closed, ConnectionState.Idle) != ConnectionState.Idle)
        {
            return false;
        }

        if (beforeClose is not null && Tls is not null)
        {
            // TLS needs a record written through the stream: do it off the monitor's thread, bounded in time.
            _ = SendOverTlsThenCloseAsync(Tls, beforeClose);
            return true;
        }

        if (beforeClose is not null)
        {
            try
            {
                // Never block the monitor on a client that does not read.
                if (_epoll is not null)
                {
                    EpollNative.SendNow(Socket.SafeHandle, beforeClose, out _);
                }
                else
                {
                    Socket.Blocking = false;
                    Socket.Send(beforeClose, SocketFlags.None, out _);
                }
            }
            catch (Exception e) when (ClientGone.Is(e))
            {
            }
        }

        CloseTransport(abort: false);
        return true;
    }

    /// <summary>
    /// Stop's close of an idle connection (<see cref="ConnectionDrainer"/>): only when still idle with nothing received,
    /// then a lingering close (RFC 9112 §9.6): our FIN first, the client's unread bytes drained until its own FIN or
    /// <paramref name="linger"/>, so a request crossing the FIN is never answered by a reset. Null when a worker has the
    /// connection or bytes are waiting (it is then served, with Connection: close); else completes when closed, true
    /// when a request did cross the close.
    /// </summary>
    public Task<bool>? TryCloseIdleLingering(TimeSpan linger)
    {
        if (Exchange is { BufferedInput: > 0 } || SafeAvailable() != 0
            || Interlocked.CompareExchange(ref _state, ConnectionState.Closed, ConnectionState.Idle) != ConnectionState.Idle)
        {
            return null;
        }

        return LingerThenCloseAsync(linger);
    }

    private int SafeAvailable()
    {
        try
        {
            return Socket.Available;
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            return -1;
        }
    }

    private async Task<bool> LingerThenCloseAsync(TimeSpan linger)
    {
        var crossed = false;
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
            using var timeout = new MonitorDeadline(linger);
            var scratch = new byte[1024];
            while (true)
            {
                var n = _epoll is { } epoll
                    ? await ReceiveOnLoopAsync(epoll, scratch, timeout.Token).ConfigureAwait(false)
                    : await Socket.ReceiveAsync(scratch, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                crossed = true;
            }
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            // The client reset, or kept its side open past the linger time: closing is all that is left.
        }
        finally
        {
            _epoll?.CloseWithSocket();
            Tls?.Dispose();
            Socket.Dispose();
            Server.OnConnectionClosed(this);
        }

        return crossed;
    }

    private async Task SendOverTlsThenCloseAsync(SslStream tls, byte[] data)
    {
        try
        {
            using var timeout = new MonitorDeadline(TimeSpan.FromSeconds(5));
            await tls.WriteAsync(data, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NotSupportedException || ClientGone.Is(e))
        {
            // The client is gone or not reading: closing is all that is left.
        }
        finally
        {
            CloseTransport(abort: false);
        }
    }

    /// <summary>
    /// A request head's receive: as <see cref="Receive"/>, except that right after the readiness wait woke the connection it
    /// does not wait, and returns -1 when nothing is there. A pending zero-byte receive is completed by the socket's
    /// readiness event without a read (dotnet/corefx#28098), and that event can be handled late (a busy thread pool), after
    /// a worker already read the bytes it announced and the connection went back to waiting: the wake-up then finds
    /// nothing. A waiting receive there held the worker until IOTimeout (then reset the connection), and Stop, which closes
    /// only idle connections, waited for it. Not waiting costs no system call where a poll(2) first would cost one per wake-up.
    /// TLS is left as it was: its wait is SslStream's zero-byte read, and the same late event does not hold a worker there
    /// (DrainTests' TLS case passes without this).
    /// </summary>
    public int ReceiveHead(Span<byte> buffer)
    {
        if (!_wakeUnconfirmed)
        {
            return Receive(buffer);
        }

        KnownReadable = false;
        _wakeUnconfirmed = false;
        if (_epoll is not null)
        {
            return ReceiveNow(buffer); // MSG_DONTWAIT: no mode change for one receive
        }

        Socket.Blocking = false; // only a flag: the runtime keeps a socket it waits on asynchronously non-blocking anyway
        try
        {
            return ReceiveNow(buffer);
        }
        finally
        {
            Socket.Blocking = true;
        }
    }

    /// <summary>
    /// One receive on a non-blocking socket (plain sockets only): bytes read, 0 at end of stream, -1 when nothing is there.
    /// </summary>
    /// <exception cref="IOException">The receive failed (e.g. the client reset the connection).</exception>
    public int ReceiveNow(Span<byte> buffer)
    {
        var epoll = _epoll;
        var edges = epoll?.Edges ?? 0;
        SocketError error;
        var n = epoll is null ? Socket.Receive(buffer, SocketFlags.None, out error) : EpollNative.ReceiveNow(Socket.SafeHandle, buffer, out error);
        epoll?.NoteReceive(edges, n, buffer.Length, error);
        return error switch
        {
            SocketError.Success => n,
            SocketError.WouldBlock => -1,
            _ => throw new IOException($"receive failed: {error}", new SocketException((int)error)),
        };
    }

    /// <summary>Blocking receive into <paramref name="buffer"/>: bytes read, or 0 at end of stream.</summary>
    /// <exception cref="IOException">The client reset the connection.</exception>
    /// <exception cref="TimeoutException">Nothing arrived within the I/O timeout.</exception>
    public int Receive(Span<byte> buffer)
    {
        KnownReadable = false;
        _wakeUnconfirmed = false;
        if (Tls is not null)
        {
            try
            {
                return Tls.Read(buffer);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                throw new TimeoutException("receive timed out", e);
            }
        }

        var epoll = _epoll;
        var edges = epoll?.Edges ?? 0;
        SocketError error;

        // On Rocket's loop not Socket.Receive: on a blocking socket that makes the runtime's SocketAsyncContext (152 B) for it.
        var n = epoll is null ? Socket.Receive(buffer, SocketFlags.None, out error) : EpollNative.ReceiveBlocking(Socket.SafeHandle, buffer, out error);
        epoll?.NoteReceive(edges, n, buffer.Length, error);
        return error switch
        {
            SocketError.Success => n,
            SocketError.TimedOut or SocketError.WouldBlock => throw new TimeoutException("receive timed out"),
            _ => throw new IOException($"receive failed: {error}", new SocketException((int)error)),
        };
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        KnownReadable = false;
        if (Tls is null && _epoll is { } epoll)
        {
            return await ReceiveOnLoopAsync(epoll, buffer, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return Tls is not null
                ? await Tls.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)
                : await Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"receive failed: {e.SocketErrorCode}", e);
        }
    }

    /// <summary>Blocking send of every byte.</summary>
    /// <exception cref="IOException">The client went away or the send timed out.</exception>
    public void Send(ReadOnlySpan<byte> data)
    {
        BeginWrite(data.Length);
        try
        {
            if (Tls is not null)
            {
                Tls.Write(data);
                return;
            }

            if (_epoll is not null)
            {
                SendBlockingOnLoop(data);
                return;
            }

            while (!data.IsEmpty)
            {
                var n = Socket.Send(data, SocketFlags.None, out var error);
                if (error != SocketError.Success)
                {
                    throw new IOException($"send failed: {error}", new SocketException((int)error));
                }

                data = data[n..];
            }
        }
        finally
        {
            EndWrite();
        }
    }

    /// <summary>
    /// Starts timing a write of <paramref name="bytes"/> (Kestrel's rule for MinResponseDataRate): it must finish within the
    /// grace period plus bytes / rate, or the monitor aborts the connection. Writes do not overlap on one connection.
    /// </summary>
    public void BeginWrite(long bytes)
    {
        var core = Server;

        // Kestrel's rule too: an upgraded connection (a WebSocket) may stay quiet as long as it likes. Without a deadline the
        // write is still marked in progress (long.MaxValue), so the monitor can apply the IOTimeout to it.
        Volatile.Write(
            ref _writeDeadline,
            core.WriteGraceTicks != 0 && Upgraded is null && Exchange is not { Upgraded: true }
                ? System.Diagnostics.Stopwatch.GetTimestamp() + core.WriteGraceTicks + (long)(bytes * core.WriteTicksPerByte)
                : long.MaxValue);
    }

    public void EndWrite() => Volatile.Write(ref _writeDeadline, 0);

    /// <summary>
    /// Called by the monitor when a transfer fell below its minimum rate: a blocked receive then returns end of stream
    /// (<paramref name="receiveOnly"/>: the response can still say 408), and a blocked send fails.
    /// </summary>
    public void CutStalledTransfer(bool receiveOnly)
    {
        Volatile.Write(ref _stalled, 1);
        try
        {
            Socket.Shutdown(receiveOnly ? SocketShutdown.Receive : SocketShutdown.Both);
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        BeginWrite(data.Length);
        try
        {
            if (Tls is not null)
            {
                await Tls.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (_epoll is { } epoll)
            {
                await SendOnLoopAsync(epoll, data, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                return;
            }

            while (!data.IsEmpty)
            {
                // An upgraded connection's socket is non-blocking (RequestContext.UpgradeAsync): what the socket buffer takes
                // at once goes out with one send(2) and no asynchronous operation, which it would otherwise keep allocated.
                if (!Socket.Blocking)
                {
                    var sent = Socket.Send(data.Span, SocketFlags.None, out var error);
                    if (error == SocketError.Success)
                    {
                        data = data[sent..];
                        continue;
                    }

                    if (error != SocketError.WouldBlock)
                    {
                        throw new IOException($"send failed: {error}", new SocketException((int)error));
                    }
                }

                var n = await Socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                data = data[n..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"send failed: {e.SocketErrorCode}", e);
        }
        finally
        {
            EndWrite();
        }
    }

    /// <summary>Sends <paramref name="first"/> then <paramref name="second"/>; on plain sockets as one sendmsg(2) with two buffers.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, CancellationToken cancellationToken)
    {
        if (Tls is null && _epoll is { } epoll)
        {
            BeginWrite(first.Length + second.Length);
            try
            {
                await SendOnLoopAsync(epoll, first, second, cancellationToken).ConfigureAwait(false);
                return;
            }
            finally
            {
                EndWrite();
            }
        }

        if (Tls is not null
            || !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(first, out var a)
            || !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(second, out var b))
        {
            await SendAsync(first, cancellationToken).ConfigureAwait(false);
            await SendAsync(second, cancellationToken).ConfigureAwait(false);
            return;
        }

        var segments = _gather ??= new List<ArraySegment<byte>>(2);
        segments.Clear();
        segments.Add(a);
        segments.Add(b);
        BeginWrite(first.Length + second.Length);
        try
        {
            // The buffer-list send completes only when every byte of every segment is sent. It reads the list while
            // in flight, so it is not abandoned early on cancellation: a client that left fails the send anyway.
            cancellationToken.ThrowIfCancellationRequested();
            await Socket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"send failed: {e.SocketErrorCode}", e);
        }
        finally
        {
            EndWrite();
            segments.Clear();
        }
    }

    /// <summary>Closes the connection. With <paramref name="abort"/> the client sees a reset, never a clean end that could pass for a complete response.</summary>
    public void Close(bool abort)
    {
        if (Interlocked.Exchange(ref _state, ConnectionState.Closed) == ConnectionState.Closed)
        {
            return;
        }

        CloseTransport(abort);
    }

    public void MarkActive() => Volatile.Write(ref _state, ConnectionState.Active);

    private void CloseTransport(bool abort)
    {
        try
        {
            if (abort)
            {
                Socket.LingerState = new LingerOption(true, 0);
            }
            else if (Socket.Connected)
            {
                Socket.Shutdown(SocketShutdown.Send);
                DiscardUnread();
            }
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            // Already gone: closing is all that is left.
        }

        _epoll?.CloseWithSocket();
        Tls?.Dispose();
        Socket.Dispose();
        Server.OnConnectionClosed(this);
    }

    /// <summary>
    /// Closing with unread bytes in the receive buffer makes the kernel send a reset, which can destroy the
    /// response still in flight to the client. Read off what is already there (without waiting) first.
    /// </summary>
    private void DiscardUnread()
    {
        const int MaxDiscard = 64 * 1024;
        var available = Math.Min(Socket.Available, MaxDiscard);
        if (available <= 0 || Tls is not null)
        {
            return;
        }

        Span<byte> scratch = stackalloc byte[4096];
        while (available > 0)
        {
            var into = scratch[..Math.Min(scratch.Length, available)];
            SocketError error;
            var n = _epoll is null ? Socket.Receive(into, SocketFlags.None, out error) : EpollNative.ReceiveNow(Socket.SafeHandle, into, out error);
            if (error != SocketError.Success || n <= 0)
            {
                return;
            }

            available -= n;
        }
    }

    /// <summary>
    /// After a 101 the connection never waits idle again: drop what only that wait and gathered HTTP sends use. With Rocket's
    /// loop on a plain socket the registration stays (made now if the connection never waited idle): the upgraded stream's
    /// reads wait through it (<see cref="Epoll"/>).
    /// </summary>
    public void ReleaseHttpState()
    {
        _onReadable = null;
        _gather = null;
        if (Tls is null && EpollLoop.Instance is { } loop)
        {
            _epoll ??= loop.Register(Socket);
            return;
        }

        _epoll?.Close(); // the upgraded stream waits on the runtime's engine
        _epoll = null;
    }

    /// <summary>The socket's registration with Rocket's loop (plain sockets with <c>ROCKET_EPOLL=1</c>), else null.</summary>
    public EpollSocket? Epoll => _epoll;

    /// <summary>The idle wait completed (on the socket engine's thread): back to the active queue unless closed meanwhile.</summary>
    public void OnReadable()
    {
        Consume(_pendingWait);
        _pendingWait = default;
        if (Interlocked.CompareExchange(ref _state, ConnectionState.Active, ConnectionState.Idle) == ConnectionState.Idle)
        {
            KnownReadable = true;
            _wakeUnconfirmed = Tls is null;
            Server.OnReadable(this);
        }
    }

    private static void Consume(ValueTask<int> wait)
    {
        try
        {
            // GetResult releases the socket's reusable operation object; errors show up on the next receive.
            wait.GetAwaiter().GetResult();
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
        }
    }

    private static class ConnectionState
    {
        public const int Active = 0;
        public const int Idle = 1;
        public const int Closed = 2;
    }
}
