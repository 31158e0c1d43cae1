using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>The running engine behind one <see cref="Rocket"/>: queue, pool, monitor, listeners and the connection table.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stopping token source has no timer and lives as long as the server; nothing to release.")]
internal sealed class ServerCore
{
    private readonly Stack<HttpExchange> _exchangePool = new();
    private readonly Lock _poolLock = new();
    /// <summary>The most exchanges (~37 KB each with the default buffer sizes) kept for reuse by a server with few threads.</summary>
    private const int MaxPooledExchanges = 1024;

    private readonly int _maxPooledExchanges;

    // Pooled exchanges beyond _pooledExchangesKept that no request took for a whole _poolTrimTicks are dropped
    // (TrimExchangePool): the fewest pooled since the last trim (_poolLowWater) is what nobody needed meanwhile.
    private readonly int _pooledExchangesKept;
    private readonly long _poolTrimTicks;
    private long _poolTrimAt;
    private int _poolLowWater;
    private readonly TimeSpan? _quietCollectionDelay;
    private readonly CancellationTokenSource _stopping = new();
    private int _inFlight;
    private volatile bool _isStopping;
    private Worker _worker;

    public ServerCore(Worker worker, string methodName, AppInfo appInfo, ServerLimits limits, int minThreads, int maxThreads, TimeSpan keepAliveTimeout)
    {
        _worker = worker;
        MethodName = methodName;
        AppInfo = appInfo;
        Limits = limits;
        Pool = new WorkerThreadPool(ActiveQueue, Serve, minThreads, maxThreads, limits.ThreadIdleTimeout);
        Monitor = new ConnectionMonitor(Table, keepAliveTimeout, limits, TimeSpan.FromSeconds(1));
        // Exchanges are only made when the pool is empty, so the pool holds at most as many as were in use at once. Asynchronous
        // handlers keep theirs while they wait (a proxy at 256 connections: ~256), and a smaller cap made a burst of
        // connections going idle drop exchanges the next burst of wake-ups made again: ~16 KB of garbage per request.
        _maxPooledExchanges = Math.Max(MaxPooledExchanges, minThreads * 4);
        _pooledExchangesKept = Math.Max(64, minThreads * 4);
        _poolTrimTicks = (long)Math.Min(limits.ThreadIdleTimeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 4);
        _quietCollectionDelay = limits.QuietCollectionDelay;
        Monitor.AfterSweep = AfterSweep;
        if (limits.MinResponseDataRate is { } rate)
        {
            WriteGraceTicks = (long)(limits.MinResponseDataRateGracePeriod.TotalSeconds * Stopwatch.Frequency);
            WriteTicksPerByte = Stopwatch.Frequency / rate;
        }

        MaxConnections = limits.MaxConcurrentConnections ?? ProcessLimits.DefaultMaxConnections(ProcessLimits.DescriptorLimit()) ?? long.MaxValue;
    }

    /// <summary>Grace period of every response write in Stopwatch ticks; 0 when <see cref="ServerLimits.MinResponseDataRate"/> is off.</summary>
    public long WriteGraceTicks { get; }

    /// <summary>Stopwatch ticks each response byte adds to a write's deadline (1 / MinResponseDataRate).</summary>
    public double WriteTicksPerByte { get; }

    /// <summary>The connection limit in force: <see cref="ServerLimits.MaxConcurrentConnections"/>, or the default derived from the descriptor limit.</summary>
    public long MaxConnections { get; }

    /// <summary>The worker new requests go to; replaced by a reload (requests in flight finish on the one that started them).</summary>
    public Worker Worker
    {
        get => Volatile.Read(ref _worker);
        set => Volatile.Write(ref _worker, value);
    }

    public string MethodName { get; set; }

    public AppInfo AppInfo { get; set; }

    public ServerLimits Limits { get; }

    public ActiveQueue ActiveQueue { get; } = new();

    public ConnectionTable Table { get; } = new();

    public WorkerThreadPool Pool { get; }

    public ConnectionMonitor Monitor { get; }

    public List<Listener> Listeners { get; } = [];

    /// <summary>The interfaces as bound (a configured port 0 replaced by the port the OS chose), in the order given.</summary>
    public IReadOnlyList<ListenInterface> Interfaces { get; set; } = [];

    /// <summary>True from the start of Stop: responses then end with <c>Connection: close</c> (see <see cref="HttpExchange.KeepAliveAllowed"/>).</summary>
    public bool IsStopping => _isStopping;

    /// <summary>Cancelled when Stop begins draining: long-lived requests (upgraded connections) wind down on it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public bool RequestClientCertificate { get; init; }

    /// <summary>The counters behind the <c>Rocket</c> Meter; null for the status page's own server, which neither counts nor logs its requests.</summary>
    public ServerMetrics? Metrics { get; set; }


    public int InFlight => Volatile.Read(ref _inFlight);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RequestFinished() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Worker-thread entry: serve the connection until it goes idle, is handed on, or closes.</summary>
    public void Serve(ConnectionTransport connection)
    {
        var served = 0;
        try
        {
            while (true)
            {
                if (connection.IsClosed)
                {
                    return;
                }

                var exchange = ExchangeFor(connection);
                connection.MarkActive();
                var result = exchange.RunTurn(ref served);
                if (result != TurnResult.Idle)
                {
                    Resume(connection, result);
                    return;
                }

                ReturnExchangeIfEmpty(connection);
                if (!connection.WaitForData())
                {
                    return; // the monitor owns it now
                }
            }
        }
        catch (Exception e)
        {
            RocketLog.Errors.Error(e, "Serving connection {0} from {1} failed unexpectedly; closed.", connection.Id, connection.RemoteEndPoint);
            connection.Close(abort: true);
        }
    }

    /// <summary>
    /// Where a connection goes after a turn or after a request finished off a worker thread (the continuation of an
    /// asynchronous handler or drain): the only place that re-queues a served connection or returns its exchange.
    /// Only the thread that finished its last request may call this.
    /// </summary>
    public void Resume(ConnectionTransport connection, TurnResult result)
    {
        switch (result)
        {
            case TurnResult.Continue:
                // Bytes left in the buffer are served first; a stale readable flag would block a worker on a receive.
                connection.KnownReadable = connection.Exchange is { BufferedInput: > 0 };
                if (connection.KnownReadable)
                {
                    ActiveQueue.Enqueue(connection);
                }
                else
                {
                    // Nothing to serve: all a worker would do is start the idle wait, which never blocks. Done here, on the
                    // thread that finished the request, it spares a worker's wake-up and two context switches per request.
                    GoIdle(connection);
                }

                break;
            case TurnResult.Yield:
                // Fairness: the head is parsed again by the next worker; let other connections have a turn first.
                connection.KnownReadable = true;
                ActiveQueue.Enqueue(connection);
                break;
            case TurnResult.Closed:
                ReleaseExchange(connection);
                break;
        }
    }

    /// <summary>
    /// The transport's report (on the socket engine's thread) that an idle connection became readable: back to the active
    /// queue, or served right here when the worker never blocks (<see cref="RocketOwin.Worker.NeverBlocks"/>).
    /// </summary>
    public void OnReadable(ConnectionTransport connection)
    {
        var worker = Worker;
        if (connection.Tls is null && worker.NeverBlocks)
        {
            ServeHere(connection, worker);
            return;
        }

        ActiveQueue.Enqueue(connection);
    }

    /// <summary>The transport's report that it closed: it leaves the table.</summary>
    public void OnConnectionClosed(ConnectionTransport connection) => Table.Remove(connection);

    /// <summary>
    /// One request of a connection woken from its idle wait, started on this (non-worker) thread: see
    /// <see cref="HttpExchange.RunTurnHere"/>. What cannot be done without blocking goes to the active queue.
    /// </summary>
    private void ServeHere(ConnectionTransport connection, Worker worker)
    {
        try
        {
            var result = ExchangeFor(connection).RunTurnHere(worker);
            if (result == TurnResult.Idle)
            {
                GoIdle(connection);
            }
            else
            {
                Resume(connection, result);
            }
        }
        catch (Exception e)
        {
            RocketLog.Errors.Error(e, "Serving connection {0} from {1} failed unexpectedly; closed.", connection.Id, connection.RemoteEndPoint);
            connection.Close(abort: true);
        }
    }

    /// <summary>
    /// A connection with nothing buffered and no bytes known to be waiting: its exchange goes back to the pool and it waits
    /// for bytes (the monitor owns it meanwhile). Bytes already there: to the active queue. Never blocks.
    /// </summary>
    private void GoIdle(ConnectionTransport connection)
    {
        if (connection.IsClosed)
        {
            ReleaseExchange(connection);
            return;
        }

        ReturnExchangeIfEmpty(connection);
        if (connection.WaitForData())
        {
            ActiveQueue.Enqueue(connection);
        }
    }

    /// <summary>The connection's exchange, a pooled one attached first if it has none (between requests it holds none).</summary>
    private HttpExchange ExchangeFor(ConnectionTransport connection)
    {
        if (connection.Exchange is { } exchange)
        {
            return exchange;
        }

        exchange = RentExchange();
        exchange.Attach(connection);
        connection.Exchange = exchange;
        return exchange;
    }

    /// <summary>Idle connections hold no buffers: an exchange with no bytes buffered goes back to the pool.</summary>
    private void ReturnExchangeIfEmpty(ConnectionTransport connection)
    {
        if (connection.Exchange is { BufferedInput: 0 } exchange)
        {
            connection.Exchange = null;
            ReturnExchange(exchange);
        }
    }

    /// <summary>
    /// Returns a closed (or upgraded, see <see cref="HttpExchange.TryHandOffHandler"/>) connection's exchange to the pool;
    /// only the thread that served its last request may call this.
    /// </summary>
    public void ReleaseExchange(ConnectionTransport connection)
    {
        var exchange = connection.Exchange;
        if (exchange is not null)
        {
            connection.Exchange = null;
            ReturnExchange(exchange);
        }
    }

    /// <summary>From now on every response says <c>Connection: close</c> and its connection closes after it.</summary>
    public void BeginStopping() => _isStopping = true;

    /// <summary>Closes every connection where no request can be lost (see <see cref="ConnectionDrainer"/>), within the shutdown timeout.</summary>
    public void Drain()
    {
        _isStopping = true;
        try
        {
            _stopping.Cancel();
        }
        catch (AggregateException e)
        {
            RocketLog.Errors.Error(e, "A callback registered on the server's stopping token failed.");
        }

        new ConnectionDrainer(this).Run();
    }

    private HttpExchange RentExchange()
    {
        lock (_poolLock)
        {
            if (_exchangePool.Count > 0)
            {
                var pooled = _exchangePool.Pop();
                _poolLowWater = Math.Min(_poolLowWater, _exchangePool.Count);
                return pooled;
            }

            _poolLowWater = 0;
        }

        return new HttpExchange(this);
    }

    /// <summary>Exchanges kept for reuse now; for tests.</summary>
    internal int PooledExchangeCount
    {
        get
        {
            lock (_poolLock)
            {
                return _exchangePool.Count;
            }
        }
    }

    /// <summary>The monitor's once-a-second hook: the pool trim, then the quiet-time collection (ServerLimits.QuietCollectionDelay).</summary>
    private void AfterSweep(long now)
    {
        TrimExchangePool(now);
        if (_quietCollectionDelay is { } delay)
        {
            QuietCollector.Tick(now, delay); // after the trim: the exchanges it dropped go in the same collection
        }
    }

    /// <summary>
    /// From the monitor's sweep: drops the pooled exchanges (~37 KB each) beyond the first 64 that no request needed for a
    /// whole <see cref="ServerLimits.ThreadIdleTimeout"/>, as the worker pool lets a surplus thread go. A burst of
    /// asynchronous requests (a proxy at 1,000 connections) then gives its exchanges back instead of keeping them for the
    /// server's life; a steady load keeps what it uses.
    /// </summary>
    private void TrimExchangePool(long now)
    {
        lock (_poolLock)
        {
            if (now < _poolTrimAt)
            {
                return;
            }

            _poolTrimAt = now + _poolTrimTicks;
            var surplus = Math.Min(_poolLowWater, _exchangePool.Count - _pooledExchangesKept);
            for (var i = 0; i < surplus; i++)
            {
                _exchangePool.Pop();
            }

            _poolLowWater = _exchangePool.Count;
        }
    }

    private void ReturnExchange(HttpExchange exchange)
    {
        exchange.Detach();
        if (exchange.BuffersReleased)
        {
            return; // it served an upgraded connection with its buffers given up: let it go
        }

        lock (_poolLock)
        {
            if (_exchangePool.Count < _maxPooledExchanges)
            {
                _exchangePool.Push(exchange);
            }
        }
    }
}
