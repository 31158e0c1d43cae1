using System.Net;
using System.Net.Sockets;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// The keep-alive connections to one upstream: idle ones are reused last-in first-out (the warmest first, so the
/// oldest age out), new ones are opened within <c>connect_timeout</c>, at most <c>max_connections</c> are in use.
/// </summary>
/// <remarks>
/// Thread-safe. <see cref="Sweep"/> runs on a timer: it ends waits on the upstream past <c>upstream_timeout</c>,
/// starts watching for the client leaving during a long wait, and closes connections idle past <c>keepalive_timeout</c>.
/// </remarks>
internal sealed class UpstreamConnectionPool
{
    /// <summary>A wait on the upstream longer than this starts watching for the client leaving (a fast exchange never enlists in the core's disconnect watch).</summary>
    public const long WatchClientAfterMs = 100;

    /// <summary>A connection idle longer than this is checked for a close by the upstream before reuse (a readable idle socket is a closed or broken one).</summary>
    private const long StaleCheckAfterMs = 1_000;

    private readonly List<UpstreamConnection> _idle = [];
    private readonly List<UpstreamConnection> _all = [];

    private readonly SemaphoreSlim? _limit;
    private readonly EndPoint _endPoint;
    private readonly TimeSpan _connectTimeout;
    private readonly long _keepAliveMs;
    private readonly long _upstreamTimeoutMs;

    public UpstreamConnectionPool(Uri baseUri, ProxyOptions options)
    {
        _endPoint = IPAddress.TryParse(baseUri.IdnHost, out var address)
            ? new IPEndPoint(address, baseUri.Port)
            : new DnsEndPoint(baseUri.IdnHost, baseUri.Port);
        _connectTimeout = options.ConnectTimeout;
        _keepAliveMs = (long)options.KeepAliveTimeout.TotalMilliseconds;
        _upstreamTimeoutMs = (long)options.UpstreamTimeout.TotalMilliseconds;
        _limit = options.MaxConnections > 0 ? new SemaphoreSlim(options.MaxConnections, options.MaxConnections) : null;
    }

    /// <summary>
    /// An idle connection, or a new one. <paramref name="fresh"/> skips the idle ones (a retry after a pooled
    /// connection turned out closed). Throws <see cref="SocketException"/> (refused, unreachable, name not found)
    /// or <see cref="TimeoutException"/> (no connection within connect_timeout).
    /// </summary>
    public ValueTask<UpstreamConnection> AcquireAsync(bool fresh)
    {
        if (_limit is null && !fresh && TryTakeIdle() is { } idle)
        {
            return ValueTask.FromResult(idle);
        }

        return AcquireSlowAsync(fresh);
    }

    /// <summary>Puts a connection whose last response ended cleanly back for reuse.</summary>
    public void Return(UpstreamConnection connection)
    {
        connection.Requests++;
        connection.IdleSince = Environment.TickCount64;
        lock (_idle)
        {
            _idle.Add(connection);
        }

        _limit?.Release();
    }

    /// <summary>Closes a connection that must not be reused (broken framing, unread body, the upstream's Connection: close).</summary>
    public void Discard(UpstreamConnection connection)
    {
        Forget(connection);
        connection.Close();
    }

    /// <summary>Takes a connection out of the pool for good without closing it (it becomes a tunnel's).</summary>
    public void Forget(UpstreamConnection connection)
    {
        Untrack(connection);
        _limit?.Release();
    }

    /// <summary>Times waits, starts client watches and ages idle connections out; called every ~100 ms.</summary>
    public void Sweep(long now)
    {
        lock (_all)
        {
            foreach (var connection in _all)
            {
                var waitStart = connection.WaitStart;
                if (waitStart == 0)
                {
                    continue;
                }

                if (now - waitStart >= _upstreamTimeoutMs)
                {
                    connection.Abort(AbortReason.TimedOut);
                }
                else if (now - waitStart >= WatchClientAfterMs)
                {
                    connection.WatchClient();
                }
            }
        }

        List<UpstreamConnection>? expired = null;
        lock (_idle)
        {
            // Oldest first: the list is used as a stack.
            var count = 0;
            while (count < _idle.Count && now - _idle[count].IdleSince >= _keepAliveMs)
            {
                (expired ??= []).Add(_idle[count]);
                count++;
            }

            _idle.RemoveRange(0, count);
        }

        if (expired is not null)
        {
            foreach (var connection in expired)
            {
                // An idle connection holds no max_connections slot (only one in use does): nothing to release.
                Untrack(connection);
                connection.Close();
            }
        }
    }

    /// <summary>Closes every connection: idle ones at once, busy ones by aborting what they wait for.</summary>
    public void CloseAll()
    {
        lock (_idle)
        {
            _idle.Clear();
        }

        lock (_all)
        {
            foreach (var connection in _all)
            {
                connection.Abort(AbortReason.ServerStopping);
                connection.Close();
            }

            _all.Clear();
        }
    }

    private async ValueTask<UpstreamConnection> AcquireSlowAsync(bool fresh)
    {
        if (_limit is not null)
        {
            await _limit.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            if (!fresh && TryTakeIdle() is { } idle)
            {
                return idle;
            }

            return await ConnectAsync().ConfigureAwait(false);
        }
        catch
        {
            _limit?.Release();
            throw;
        }
    }

    private UpstreamConnection? TryTakeIdle()
    {
        while (true)
        {
            UpstreamConnection connection;
            lock (_idle)
            {
                if (_idle.Count == 0)
                {
                    return null;
                }

                connection = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
            }

            if (Environment.TickCount64 - connection.IdleSince < StaleCheckAfterMs || !LooksClosed(connection.Socket))
            {
                return connection;
            }

            Untrack(connection);
            connection.Close();
        }
    }

    private void Untrack(UpstreamConnection connection)
    {
        lock (_all)
        {
            _all.Remove(connection);
        }
    }

    /// <summary>An idle connection has nothing to read: readable means the upstream closed it (or sent bytes nobody asked for).</summary>
    private static bool LooksClosed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>A non-blocking connect(2) whose completion Rocket's epoll loop reports; the deadline closes the registration.</summary>
    private static async ValueTask<EpollSocket> ConnectOnLoopAsync(Socket socket, IPEndPoint endPoint, EpollLoop loop, CancellationToken timeout)
    {
        // fcntl and connect(2), not Socket.Blocking and Socket.Connect: those give the socket the runtime's SocketAsyncContext.
        // Non-blocking for good, as the runtime's engine leaves the sockets it serves (SpliceRelay needs it).
        EpollNative.SetNonBlocking(socket.SafeHandle, true);
        var connected = EpollNative.Connect(socket.SafeHandle, endPoint);
        if (connected == SocketError.Success)
        {
            return loop.Register(socket);
        }

        if (connected != SocketError.InProgress)
        {
            throw new SocketException((int)connected);
        }

        // Registered only once the connect is under way: a socket not yet connecting polls as hung up (EPOLLHUP), which the
        // registration would keep as "readable for good". Its first edge (or the ADD's, if it connected meanwhile) is write-side.
        var ready = loop.Register(socket);
        try
        {
            using (timeout.UnsafeRegister(static state => ((EpollSocket)state!).Close(), ready))
            {
                await ready.WaitWritableAsync().ConfigureAwait(false);
            }

            ThrowUnlessConnected(socket, timeout);
            return ready;
        }
        catch
        {
            ready.Close();
            throw;
        }
    }

    private static void ThrowUnlessConnected(Socket socket, CancellationToken timeout)
    {
        timeout.ThrowIfCancellationRequested();

        // SO_ERROR is an errno (Linux numbering); SocketException takes the portable codes.
        var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != 0)
        {
            throw new SocketException((int)EpollNative.ToSocketError(error));
        }
    }

    private async ValueTask<UpstreamConnection> ConnectAsync()
    {
        var socket = _endPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;

        // The monitor's deadline, not a CancellationTokenSource with a delay: that would start the runtime's timer
        // thread (and thread-pool workers for its callbacks) in a process whose every other wait is on the engine thread.
        using var timeout = new MonitorDeadline(_connectTimeout);
        EpollSocket? ready = null;

        try
        {
            if (EpollLoop.Instance is { } loop && _endPoint is IPEndPoint target)
            {
                // A socket the runtime's engine connected stays in its epoll set: every response would wake that thread too.
                ready = await ConnectOnLoopAsync(socket, target, loop, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(_endPoint, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (timeout.Token.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            ready?.Close();
            socket.Dispose();
            throw new TimeoutException($"no connection within connect_timeout ({_connectTimeout.TotalSeconds:0.###} s)");
        }
        catch
        {
            ready?.Close();
            socket.Dispose();
            throw;
        }

        // Non-blocking: UpstreamConnection.SendAsync tries a plain send(2) first (asynchronous operations work either way). On
        // the loop it is already, and its sends and receives are EpollNative's.
        if (ready is null)
        {
            socket.Blocking = false;
        }

        var connection = new UpstreamConnection(socket, this) { Epoll = ready ?? EpollLoop.Instance?.Register(socket) };
        lock (_all)
        {
            _all.Add(connection);
        }

        return connection;
    }
}
