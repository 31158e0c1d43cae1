using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// One keep-alive HTTP/1.1 connection to an upstream: the socket, the buffer its responses are read into,
/// the buffer request heads are written into, and the state the pool's sweep looks at (how long the current
/// wait on the upstream has lasted, whether the client went away meanwhile).
/// </summary>
/// <remarks>
/// Used by one exchange at a time; between exchanges it sits in its pool. The sweep thread reads the wait
/// fields and may abort it (a shutdown of the socket: the pending receive or send ends at once).
/// Both buffers belong to the connection, so a request on a pooled connection allocates nothing.
/// </remarks>
internal sealed class UpstreamConnection
{
    /// <summary>Bytes a response head may take (SocketsHttpHandler's default MaxResponseHeadersLength, 64 KiB).</summary>
    public const int MaxHeadSize = 64 * 1024;

    private const int InitialBufferSize = 8 * 1024;

    /// <summary>Response heads up to this size are remembered byte for byte: an identical next head is not parsed again.</summary>
    private const int RememberedHeadSize = 1024;

    private readonly object _gate = new();
    private long _waitStart;
    private int _abortReason;
    private RequestContext? _owner;
    private bool _watching;
    private CancellationTokenRegistration _clientWatch;
    private byte[]? _lastHead;
    private int _lastHeadStart;
    private int _lastHeadLength;

    public UpstreamConnection(Socket socket, UpstreamConnectionPool pool)
    {
        Socket = socket;
        Pool = pool;
    }

    public Socket Socket { get; }

    /// <summary>The socket's registration with Rocket's epoll loop (<c>ROCKET_EPOLL=1</c>), else null: see <see cref="ReceiveReady"/>.</summary>
    public RocketOwin.Internal.EpollSocket? Epoll { get; set; }

    public UpstreamConnectionPool Pool { get; }

    /// <summary>Where responses are read; <see cref="Start"/>..<see cref="End"/> are received and not yet used.</summary>
    public byte[] ReadBuffer { get; private set; } = new byte[InitialBufferSize];

    public int Start { get; set; }

    public int End { get; set; }

    public int Buffered => End - Start;

    /// <summary>Where request heads are written (grown for a large head, then kept).</summary>
    public byte[] WriteBuffer { get; set; } = new byte[InitialBufferSize];

    /// <summary>The client address last written into a request head here (X-Forwarded-For), whose text is <see cref="ClientAddressText"/>.</summary>
    public System.Net.IPAddress? ClientAddress { get; set; }

    /// <summary>The text of <see cref="ClientAddress"/> (its first <see cref="ClientAddressLength"/> bytes): IPv6 with a scope fits.</summary>
    public byte[] ClientAddressText { get; } = new byte[64];

    public int ClientAddressLength { get; set; }

    /// <summary>Requests finished on it: more than 0 means it came from the pool and the upstream may have closed it meanwhile.</summary>
    public int Requests { get; set; }

    /// <summary>When it was put back into the pool (Environment.TickCount64).</summary>
    public long IdleSince { get; set; }

    /// <summary>The last response head's field strings, reused while the upstream repeats them (no string per field per response).</summary>
    public HeaderStringCache Strings { get; } = new();

    /// <summary>The parsed head of the response being read.</summary>
    public ResponseHead Head { get; } = new();

    /// <summary>Changes whenever <see cref="Head"/> is parsed anew (not when an identical head was recognized): what was derived from it stays valid while it is the same.</summary>
    public int HeadVersion { get; private set; }

    /// <summary>
    /// Parses the response head at <see cref="Start"/> into <see cref="Head"/> (see <see cref="ResponseHeadParser.TryParse"/>
    /// for the result). An upstream answers with the same head again and again, bar its Date once a second: bytes equal to
    /// the last head parsed, at the same offset, parse to the same <see cref="Head"/>, which is then kept as it is.
    /// </summary>
    public int ParseHead()
    {
        var length = _lastHeadLength;
        if (length > 0 && Start == _lastHeadStart && Buffered >= length && ReadBuffer.AsSpan(Start, length).SequenceEqual(_lastHead.AsSpan(0, length)))
        {
            return length;
        }

        var parsed = ResponseHeadParser.TryParse(ReadBuffer, Start, End, Head);
        if (parsed == 0)
        {
            return 0;
        }

        HeadVersion++;
        _lastHeadLength = 0;
        if (parsed > 0 && parsed <= RememberedHeadSize)
        {
            _lastHead ??= new byte[RememberedHeadSize];
            ReadBuffer.AsSpan(Start, parsed).CopyTo(_lastHead);
            _lastHeadStart = Start;
            _lastHeadLength = parsed;
        }

        return parsed;
    }

    /// <summary>Handed to a tunnel after a 101: no longer the pool's.</summary>
    public bool Tunnelled { get; set; }

    public AbortReason Aborted => (AbortReason)Volatile.Read(ref _abortReason);

    /// <summary>Marks the start of a wait on the upstream (a receive or a send that may block); the sweep times it.</summary>
    public void BeginWait() => Volatile.Write(ref _waitStart, Environment.TickCount64);

    public void EndWait() => Volatile.Write(ref _waitStart, 0);

    public long WaitStart => Volatile.Read(ref _waitStart);

    /// <summary>Binds the connection to the request it serves, so the sweep can watch for that client leaving during a long wait.</summary>
    public void Attach(RequestContext context) => Volatile.Write(ref _owner, context);

    /// <summary>Unbinds it before the request ends (under the lock the sweep takes: the context is reused by the next request).</summary>
    public void Detach()
    {
        CancellationTokenRegistration watch = default;
        lock (_gate)
        {
            _owner = null;
            if (_watching)
            {
                _watching = false;
                watch = _clientWatch;
                _clientWatch = default;
            }
        }

        // Waits for an Abort already running on the core's thread; Abort takes no lock, so this cannot deadlock.
        watch.Dispose();
    }

    /// <summary>
    /// Called by the sweep when a wait has lasted a while: from now on the client leaving aborts this connection.
    /// Fast exchanges never get here, so they never enlist in the core's disconnect watch.
    /// </summary>
    public void WatchClient()
    {
        lock (_gate)
        {
            if (_owner is not { } context || _watching)
            {
                return;
            }

            _watching = true;
            _clientWatch = context.RequestAborted.UnsafeRegister(static state => ((UpstreamConnection)state!).Abort(AbortReason.ClientGone), this);
        }
    }

    /// <summary>Ends whatever waits on the socket: a shutdown wakes a pending receive (0 bytes) or send (an error).</summary>
    public void Abort(AbortReason reason)
    {
        if (Interlocked.CompareExchange(ref _abortReason, (int)reason, 0) != 0)
        {
            return;
        }

        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing waits on it.
        }
    }

    /// <summary>Makes room for at least <paramref name="bytes"/> more bytes after <see cref="End"/>: moves buffered bytes to the front, grows up to <see cref="MaxHeadSize"/>.</summary>
    /// <returns>False when the buffer is at its limit.</returns>
    public bool MakeRoom(int bytes)
    {
        if (ReadBuffer.Length - End >= bytes)
        {
            return true;
        }

        var buffered = Buffered;
        if (Start > 0)
        {
            ReadBuffer.AsSpan(Start, buffered).CopyTo(ReadBuffer);
            Start = 0;
            End = buffered;
            if (ReadBuffer.Length - End >= bytes)
            {
                return true;
            }
        }

        if (ReadBuffer.Length >= MaxHeadSize)
        {
            return false;
        }

        var larger = new byte[Math.Min(MaxHeadSize, ReadBuffer.Length * 2)];
        ReadBuffer.AsSpan(0, End).CopyTo(larger);
        ReadBuffer = larger;
        return true;
    }

    /// <summary>
    /// With <see cref="Epoll"/>: one receive into the free end of the read buffer when the loop says bytes may be there, else
    /// none (-1: await <see cref="RocketOwin.Internal.EpollSocket.WaitAsync"/>, then call again). 0: the upstream closed.
    /// </summary>
    public int ReceiveReady()
    {
        var ready = Epoll!;
        if (!ready.MaybeReadable)
        {
            return -1;
        }

        var edges = ready.Edges;
        var free = ReadBuffer.AsSpan(End);
        var n = RocketOwin.Internal.EpollNative.ReceiveNow(Socket.SafeHandle, free, out var error);
        ready.NoteReceive(edges, n, free.Length, error);
        if (error == SocketError.WouldBlock)
        {
            return -1;
        }

        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }

        End += n;
        return n;
    }

    /// <summary>Sends all of <paramref name="data"/>; a send that blocks (the upstream not reading) is timed by the sweep.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        // The socket is non-blocking (see UpstreamConnectionPool.ConnectAsync): a send that fits the socket buffer, nearly
        // every request head, is one send(2) without the runtime's asynchronous-operation machinery.
        var edges = Epoll?.WriteEdges ?? 0;
        var sent = Epoll is null ? Socket.Send(data.Span, SocketFlags.None, out var error) : RocketOwin.Internal.EpollNative.SendNow(Socket.SafeHandle, data.Span, out error);
        if (error == SocketError.Success && sent == data.Length)
        {
            return default;
        }

        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            return ValueTask.FromException(new SocketException((int)error));
        }

        sent = Math.Max(sent, 0);
        return Epoll is { } ready ? SendRestOnLoopAsync(ready, edges, data[sent..]) : SendRestAsync(data[sent..]);
    }

    /// <summary>The rest of a send on Rocket's loop: a wait for the write edge that frees buffer space, then send(2) again.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private async ValueTask SendRestOnLoopAsync(RocketOwin.Internal.EpollSocket ready, int edges, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            BeginWait();
            try
            {
                // The sweep's abort (a shutdown) raises an edge too: the send after it fails.
                await ready.WaitWritableAsync(edges).ConfigureAwait(false);
            }
            finally
            {
                EndWait();
            }

            edges = ready.WriteEdges;
            var n = RocketOwin.Internal.EpollNative.SendNow(Socket.SafeHandle, data.Span, out var error);
            if (error == SocketError.Success)
            {
                data = data[n..];
            }
            else if (ready.IsClosed)
            {
                throw new ObjectDisposedException(nameof(UpstreamConnection));
            }
            else if (error is not (SocketError.WouldBlock or SocketError.Interrupted))
            {
                throw new SocketException((int)error);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var send = Socket.SendAsync(data, SocketFlags.None);
            int n;
            if (send.IsCompleted)
            {
                n = send.GetAwaiter().GetResult();
            }
            else
            {
                BeginWait();
                try
                {
                    n = await send.ConfigureAwait(false);
                }
                finally
                {
                    EndWait();
                }
            }

            data = data[n..];
        }
    }

    public void Close()
    {
        try
        {
            Epoll?.CloseWithSocket();
            Socket.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
