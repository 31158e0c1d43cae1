namespace RocketOwin;

/// <summary>
/// Every size limit and timeout the engine enforces, in one place. Setters validate: a bad value throws
/// <see cref="ArgumentOutOfRangeException"/> naming the option and the value.
/// </summary>
/// <remarks>Read by the engine when the server starts; change it before <see cref="Rocket.Start"/>.</remarks>
public sealed class ServerLimits
{
    private int _maxRequestLineLength = 8 * 1024;
    private int _maxRequestHeadersTotalSize = 32 * 1024;
    private int _maxRequestHeaderCount = 100;
    private long? _maxRequestBodySize = 30_000_000;
    private long _maxUnreadBodyToDrain = 64 * 1024;
    private int _maxRequestsPerTurn = 64;
    private int _responseBufferSize = 16 * 1024;
    private TimeSpan _requestHeadersTimeout = TimeSpan.FromSeconds(30);
    private TimeSpan _ioTimeout = TimeSpan.FromSeconds(60);
    private TimeSpan _tlsHandshakeTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _shutdownTimeout = TimeSpan.FromSeconds(30);
    private TimeSpan _shutdownIdleGrace = TimeSpan.FromSeconds(1);
    private TimeSpan _threadIdleTimeout = TimeSpan.FromSeconds(10);
    private long? _maxConcurrentConnections;
    private double? _minRequestBodyDataRate = 240;
    private TimeSpan _minRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(5);
    private double? _minResponseDataRate = 240;
    private TimeSpan _minResponseDataRateGracePeriod = TimeSpan.FromSeconds(5);
    private TimeSpan _unreadBodyDrainTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan? _quietCollectionDelay = TimeSpan.FromSeconds(5);

    /// <summary>Longest request line in bytes, CRLF excluded. Default 8,192 (nginx's large_client_header_buffers and Kestrel's MaxRequestLineSize). Longer: 414.</summary>
    public int MaxRequestLineLength
    {
        get => _maxRequestLineLength;
        set => _maxRequestLineLength = Check(value, 64, 1024 * 1024, nameof(MaxRequestLineLength));
    }

    /// <summary>Largest header section in bytes (all field lines and their CRLFs). Default 32,768 (Kestrel's MaxRequestHeadersTotalSize). Larger: 431.</summary>
    public int MaxRequestHeadersTotalSize
    {
        get => _maxRequestHeadersTotalSize;
        set => _maxRequestHeadersTotalSize = Check(value, 256, 16 * 1024 * 1024, nameof(MaxRequestHeadersTotalSize));
    }

    /// <summary>Most header fields in one request. Default 100 (Kestrel's MaxRequestHeaderCount). More: 431.</summary>
    public int MaxRequestHeaderCount
    {
        get => _maxRequestHeaderCount;
        set => _maxRequestHeaderCount = Check(value, 1, 100_000, nameof(MaxRequestHeaderCount));
    }

    /// <summary>Largest request body in bytes, or null for no limit. Default 30,000,000 (Kestrel's MaxRequestBodySize). Larger: 413.</summary>
    public long? MaxRequestBodySize
    {
        get => _maxRequestBodySize;
        set => _maxRequestBodySize = value is null ? null : Check(value.Value, 0, long.MaxValue, nameof(MaxRequestBodySize));
    }

    /// <summary>
    /// How much of a body the handler left unread is read and discarded to keep the connection alive.
    /// Default 65,536 bytes; past that the connection is closed after the response.
    /// </summary>
    public long MaxUnreadBodyToDrain
    {
        get => _maxUnreadBodyToDrain;
        set => _maxUnreadBodyToDrain = Check(value, 0, long.MaxValue, nameof(MaxUnreadBodyToDrain));
    }

    /// <summary>Most requests served from one connection before a worker moves on to others (fairness). Default 64 (measured on the prototype).</summary>
    public int MaxRequestsPerTurn
    {
        get => _maxRequestsPerTurn;
        set => _maxRequestsPerTurn = Check(value, 1, 1_000_000, nameof(MaxRequestsPerTurn));
    }

    /// <summary>
    /// Bytes of response body held before headers are sent. A response that completes within it gets a
    /// Content-Length; a longer one without a declared length is chunked (HTTP/1.1) or close-delimited (HTTP/1.0).
    /// Default 16,384 (Kestrel's output pipe pauses at 64 KiB; nginx's output_buffers are 32 KiB).
    /// </summary>
    public int ResponseBufferSize
    {
        get => _responseBufferSize;
        set => _responseBufferSize = Check(value, 512, 16 * 1024 * 1024, nameof(ResponseBufferSize));
    }

    /// <summary>Time from a request's first byte to the end of its header section. Default 30 s (Kestrel's RequestHeadersTimeout; nginx's client_header_timeout is 60 s). Slower: 408 and close.</summary>
    public TimeSpan RequestHeadersTimeout
    {
        get => _requestHeadersTimeout;
        set => _requestHeadersTimeout = Check(value, nameof(RequestHeadersTimeout));
    }

    /// <summary>Longest wait for one read of a request body or one write of a response. Default 60 s (nginx's client_body_timeout and send_timeout).</summary>
    public TimeSpan IOTimeout
    {
        get => _ioTimeout;
        set => _ioTimeout = Check(value, nameof(IOTimeout));
    }

    /// <summary>
    /// Longest TLS handshake, counted from the accept. Default 10 s (Kestrel's HandshakeTimeout). Checked by the connection
    /// monitor's once-a-second sweep (so up to a second late), not by a timer per connection.
    /// </summary>
    public TimeSpan TlsHandshakeTimeout
    {
        get => _tlsHandshakeTimeout;
        set => _tlsHandshakeTimeout = Check(value, nameof(TlsHandshakeTimeout));
    }

    /// <summary>How long <see cref="Rocket.Stop"/> lets requests in flight finish before closing their connections. Default 30 s (.NET's HostOptions.ShutdownTimeout).</summary>
    public TimeSpan ShutdownTimeout
    {
        get => _shutdownTimeout;
        set => _shutdownTimeout = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), value, $"ShutdownTimeout must not be negative (got {value}).");
    }

    /// <summary>
    /// During <see cref="Rocket.Stop"/>, how long a keep-alive connection must have had no request before it is closed
    /// (a request arriving meanwhile is answered, with <c>Connection: close</c>). Default 1 s: a balancer that is
    /// about to reuse a pooled connection has done so by then, so no request is lost to the close.
    /// Never longer than <see cref="ShutdownTimeout"/> in effect.
    /// </summary>
    public TimeSpan ShutdownIdleGrace
    {
        get => _shutdownIdleGrace;
        set => _shutdownIdleGrace = value >= TimeSpan.Zero && value <= TimeSpan.FromDays(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ShutdownIdleGrace), value, $"ShutdownIdleGrace must be from 0 to 1 day (got {value}).");
    }

    /// <summary>
    /// How long a worker thread above minThreads may sit idle before it exits (the pool shrinking back), and how long pooled
    /// request exchanges (~37 KB each) beyond the first 64 may go unused before they are dropped. Default 10 s.
    /// </summary>
    public TimeSpan ThreadIdleTimeout
    {
        get => _threadIdleTimeout;
        set => _threadIdleTimeout = Check(value, nameof(ThreadIdleTimeout));
    }

    /// <summary>
    /// Most open client connections. Default null: derived from the process's file-descriptor limit (RLIMIT_NOFILE) less a
    /// reserve of an eighth of it (at least 64) for the runtime, log files and upstream connections, so accepting clients
    /// never takes the last descriptors the runtime itself needs (1,024 descriptors -> 896 connections). Kestrel's
    /// MaxConcurrentConnections (null there means no limit). A connection past the limit is answered 503 and closed at
    /// accept; when the descriptors run out anyway, accepting pauses until some are free.
    /// </summary>
    public long? MaxConcurrentConnections
    {
        get => _maxConcurrentConnections;
        set => _maxConcurrentConnections = value is null ? null : Check(value.Value, 1, int.MaxValue, nameof(MaxConcurrentConnections));
    }

    /// <summary>
    /// Slowest average rate, in bytes per second, at which a client may send a request body (and, once its first byte is
    /// in, a request head) after <see cref="MinRequestBodyDataRateGracePeriod"/>; null for no minimum. Default 240
    /// (Kestrel's MinRequestBodyDataRate). Time counts only while the server waits for the client's bytes. Slower: 408 and
    /// close (the connection is closed without a response if the handler has already started one).
    /// </summary>
    public double? MinRequestBodyDataRate
    {
        get => _minRequestBodyDataRate;
        set => _minRequestBodyDataRate = value is null ? null : CheckRate(value.Value, nameof(MinRequestBodyDataRate));
    }

    /// <summary>How long a request body (or head) may arrive slower than <see cref="MinRequestBodyDataRate"/> before the rate is enforced. Default 5 s (Kestrel's); at least 1 s (the monitor's tick).</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod
    {
        get => _minRequestBodyDataRateGracePeriod;
        set => _minRequestBodyDataRateGracePeriod = CheckGrace(value, nameof(MinRequestBodyDataRateGracePeriod));
    }

    /// <summary>
    /// Slowest rate, in bytes per second, at which a client must take a response: a write of N bytes must finish within
    /// <see cref="MinResponseDataRateGracePeriod"/> + N / rate seconds, or the connection is aborted; null for no minimum.
    /// Default 240 (Kestrel's MinResponseDataRate). This also bounds asynchronous sends and file sends, which
    /// <see cref="IOTimeout"/> does not.
    /// </summary>
    public double? MinResponseDataRate
    {
        get => _minResponseDataRate;
        set => _minResponseDataRate = value is null ? null : CheckRate(value.Value, nameof(MinResponseDataRate));
    }

    /// <summary>The time every response write gets on top of its bytes / <see cref="MinResponseDataRate"/>. Default 5 s (Kestrel's); at least 1 s (the monitor's tick).</summary>
    public TimeSpan MinResponseDataRateGracePeriod
    {
        get => _minResponseDataRateGracePeriod;
        set => _minResponseDataRateGracePeriod = CheckGrace(value, nameof(MinResponseDataRateGracePeriod));
    }

    /// <summary>
    /// Longest time spent reading and discarding a body the handler left unread (at most <see cref="MaxUnreadBodyToDrain"/>
    /// bytes), after the response has gone out. The drain is asynchronous and holds no worker thread. Default 5 s (nginx's
    /// lingering_timeout); slower: the connection is closed instead of kept alive.
    /// </summary>
    public TimeSpan UnreadBodyDrainTimeout
    {
        get => _unreadBodyDrainTimeout;
        set => _unreadBodyDrainTimeout = Check(value, nameof(UnreadBodyDrainTimeout));
    }

    /// <summary>
    /// After a burst (the process allocated at least 16 MiB, and at least its heap's size, since the last such collection),
    /// how long the process must stay quiet (allocating under 256 KiB a second) before the monitor runs one full, compacting
    /// garbage collection that returns to the OS what the burst left committed: the .NET GC otherwise keeps its gen0 budget
    /// and the space around the burst's survivors (e.g. 10,000 WebSocket handshakes, then idle sockets) for as long as nothing
    /// allocates. At most one per quiet period, never under load; its pause (tens of milliseconds at 10,000 open WebSockets)
    /// is logged at Debug. Skipped while the heap exceeds 256 MiB (there the heap is the application's own data and the pause
    /// would be long). Default 5 s; from 1 s (the monitor's tick) to 1 day; null: off (the GC alone decides, as in
    /// Kestrel). Process-wide: several servers in one process share one collection.
    /// </summary>
    public TimeSpan? QuietCollectionDelay
    {
        get => _quietCollectionDelay;
        set => _quietCollectionDelay = value is null ? null : CheckGrace(value.Value, nameof(QuietCollectionDelay));
    }

    private static int Check(int value, int min, int max, string name)
        => value >= min && value <= max ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be from {min} to {max} (got {value}).");

    private static long Check(long value, long min, long max, string name)
        => value >= min && value <= max ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be from {min} to {max} (got {value}).");

    private static TimeSpan Check(TimeSpan value, string name)
        => value > TimeSpan.Zero && value <= TimeSpan.FromDays(1) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be more than 0 and at most 1 day (got {value}).");

    private static double CheckRate(double value, string name)
        => value > 0 && value <= 1e12 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be more than 0 and at most 1e12 bytes per second, or null for no minimum (got {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");

    private static TimeSpan CheckGrace(TimeSpan value, string name)
        => value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromDays(1) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be from 1 second to 1 day (got {value}).");
}
