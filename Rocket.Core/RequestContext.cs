using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>Everything a <see cref="Worker"/> needs to answer one request.</summary>
/// <remarks>
/// Reused for many requests (pooled with the server's per-request state): use it only until the handler's task
/// completes, or, after <see cref="UpgradeAsync"/>, only until that returns (the upgraded connection is then the
/// stream). Not thread-safe: one request runs at a time on a connection.
/// </remarks>
public sealed class RequestContext
{
    private static readonly byte[] PeekBuffer = new byte[1];
    private readonly HttpExchange _exchange;
    private CancellationTokenSource? _aborted;
    private int _watching;
    private int _request;
    private bool _enlisted;

    internal RequestContext(HttpExchange exchange) => _exchange = exchange;

    /// <summary>The connection the request arrived on.</summary>
    public Connection Connection => _exchange.Connection.Public;

    /// <summary>The request line and headers.</summary>
    public RequestHead Request => _exchange.Request;

    /// <summary>The request body (empty when there is none). The first read answers <c>Expect: 100-continue</c>.</summary>
    /// <remarks>Reads throw <see cref="BadRequestException"/> for malformed framing, a body over the limit (413) or a stalled client (408).</remarks>
    public Stream RequestBody => _exchange.Body;

    /// <summary>The response.</summary>
    public Response Response => _exchange.Response;

    /// <summary>The server's settings for this method.</summary>
    public AppInfo AppInfo => _exchange.Server.AppInfo;

    /// <summary>Signalled when the client goes away during the response or the server stops without waiting any longer.</summary>
    /// <remarks>
    /// A handler that reads it and is still running ~50 ms later has its socket watched, so a client that closes is
    /// noticed within ~100 ms, also while the handler blocks its thread.
    /// </remarks>
    public CancellationToken RequestAborted
    {
        get
        {
            _aborted ??= new CancellationTokenSource();
            if (!_enlisted)
            {
                _enlisted = true;
                EarlyDisconnectWatch.Enlist(this, Volatile.Read(ref _request));
            }

            return _aborted.Token;
        }
    }

    /// <summary>
    /// Cancelled when the server begins to stop (<see cref="Rocket.Stop"/>), before it waits for requests in flight to
    /// finish within <see cref="ServerLimits.ShutdownTimeout"/>: a long-lived exchange (an upgraded connection, a
    /// WebSocket) should wind down on it, e.g. with a close frame 1001 "going away".
    /// </summary>
    public CancellationToken ServerStopping => _exchange.Server.Stopping;

    /// <summary>Stopwatch timestamp of the request's arrival (when its head was parsed).</summary>
    public long StartTimestamp => _exchange.RequestStart;

    /// <summary>True once <see cref="UpgradeAsync"/> switched the connection to another protocol.</summary>
    public bool IsUpgraded => _exchange.Upgraded;

    /// <summary>
    /// Switches protocols: sends the response head with status 101 (set the Upgrade and Connection headers
    /// first) and returns the raw connection as a duplex stream. Bytes the client sent after the request head
    /// are the first bytes read. The connection closes when the handler completes.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <c>Rocket.Requests</c> logs the 101 when it is sent and, when the handler completes, how long the connection
    /// lived and the bytes that crossed it each way.
    /// </para>
    /// <para>
    /// Lifetime: once this returns, the upgraded connection is the stream, and this context (with its request, response,
    /// body streams and connection) is no longer the handler's: the server takes the request's objects back for other
    /// requests as soon as the handler has returned its task, so an open upgraded connection holds only the stream. Read
    /// what you need of the request (headers, target, <see cref="RequestAborted"/>, <see cref="ServerStopping"/>) before
    /// calling this. A <see cref="RequestAborted"/> token taken before stays valid: it fires when the server gives up
    /// waiting for the upgraded connection at <see cref="Rocket.Stop"/>.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The response has started, or the request did not ask to upgrade.</exception>
    public async ValueTask<Stream> UpgradeAsync(CancellationToken cancellationToken = default)
    {
        var response = _exchange.Response;
        response.ThrowIfStarted();
        if (!_exchange.Request.IsUpgradeRequest)
        {
            throw new InvalidOperationException("The request did not ask to upgrade (it needs Connection: upgrade and an Upgrade field, on HTTP/1.1).");
        }

        if (response.StatusCode != 101)
        {
            response.StatusCode = 101;
        }

        _exchange.Upgraded = true;
        var connection = _exchange.Connection;
        if (connection.Tls is null && connection.Epoll is null)
        {
            // From here on the stream reads and writes without ever blocking a thread (UpgradedStream), the 101 included. On
            // Rocket's loop every call is non-blocking by itself (MSG_DONTWAIT), and Socket.Blocking would give the socket the
            // runtime's SocketAsyncContext.
            connection.Socket.Blocking = false;
        }

        await response.FlushAsync(cancellationToken).ConfigureAwait(false);
        RequestLog.Completed(_exchange, 101);

        // The abort source goes with the upgraded connection: the next request on this (pooled) context makes its own.
        var stream = new UpgradedStream(_exchange, _aborted);
        _aborted = null;
        connection.Upgraded = stream;
        connection.ReleaseHttpState();
        if (!_exchange.TryLeaveToUpgrade())
        {
            // The core already waits for the handler with this exchange: it stays until then, without its buffers.
            _exchange.ReleaseBuffers();
        }

        // From here on nothing may touch the exchange: it may already serve another connection.
        return stream;
    }

    /// <summary>
    /// Called by the monitor's sweep while an asynchronous handler runs with the request body fully read:
    /// watch the socket so that <see cref="RequestAborted"/> fires when the client closes (a peek: nothing is
    /// consumed). At most one watch per request.
    /// </summary>
    /// <remarks>
    /// The peek is never cancelled: it completes by itself when the client sends its next request (n > 0,
    /// ignored) or closes (which aborts whatever runs then, rightly). Cancelling it when the handler finished
    /// cost a cancelled socket operation and a thrown OperationCanceledException on every asynchronous
    /// request (10-15% of the proxy method's CPU).
    /// </remarks>
    internal void StartDisconnectWatch()
    {
        var connection = _exchange.Connection;
        if (_aborted is null || _exchange.Upgraded || connection is null || Interlocked.Exchange(ref _watching, 1) == 1)
        {
            return;
        }

        _ = WatchAsync(connection);
    }

    /// <summary>True while request number <paramref name="request"/> is the one being served and its connection is busy.</summary>
    internal bool IsRunning(int request)
        => Volatile.Read(ref _request) == request && _exchange.Connection is { IsIdle: false };

    /// <summary>
    /// For <see cref="EarlyDisconnectWatch"/>: starts the disconnect watch if request number <paramref name="request"/>
    /// still runs with its body read (else a peek would only see body bytes). False: try again at the next tick.
    /// </summary>
    internal bool TryStartEarlyWatch(int request)
    {
        if (!IsRunning(request))
        {
            return true;
        }

        if (!_exchange.Body.IsComplete)
        {
            return false;
        }

        StartDisconnectWatch();
        return true;
    }

    internal void Abort()
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
            // A late disconnect watch raced with the next request's reset: that request starts afresh.
        }
    }

    private async Task WatchAsync(ConnectionTransport connection)
    {
        // Rocket's epoll loop (ROCKET_EPOLL=1): the same watch without the runtime's socket engine.
        if (connection.TryWatchDisconnectOnLoop(() =>
            {
                if (ReferenceEquals(_exchange.Connection, connection))
                {
                    Abort();
                }
            }))
        {
            return;
        }

        try
        {
            var n = await connection.Socket.ReceiveAsync(PeekBuffer, System.Net.Sockets.SocketFlags.Peek).ConfigureAwait(false);

            // The exchange is pooled: by now it may serve another connection, whose requests this close must not abort.
            if (n == 0 && ReferenceEquals(_exchange.Connection, connection))
            {
                Abort();
            }

            // n > 0: the client sent more (a pipelined request); it is still there.
        }
        catch (OperationCanceledException)
        {
        }
        catch (System.Net.Sockets.SocketException)
        {
            if (ReferenceEquals(_exchange.Connection, connection))
            {
                Abort();
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    internal void ResetForNextRequest()
    {
        Volatile.Write(ref _request, _request + 1);
        _enlisted = false;
        Volatile.Write(ref _watching, 0);
        if (_aborted is not null && !_aborted.TryReset())
        {
            _aborted.Dispose();
            _aborted = null;
        }
    }
}
