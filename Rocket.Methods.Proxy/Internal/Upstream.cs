namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>One upstream server: where requests go, its connection pool, how many requests are in flight, and whether it is resting after a failure.</summary>
/// <remarks>Shared by every request thread; counters are updated with interlocked operations.</remarks>
internal sealed class Upstream
{
    private int _outstanding;
    private long _downUntil;
    private long _lastLogLine;
    private int _unlogged;

    public Upstream(Uri baseUri)
    {
        BaseUri = baseUri;
        Name = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        Authority = baseUri.Authority;
        PathPrefix = baseUri.AbsolutePath.TrimEnd('/');
    }

    /// <summary>The URL as configured.</summary>
    public Uri BaseUri { get; }

    /// <summary>How logs name it: scheme, authority and path prefix.</summary>
    public string Name { get; }

    /// <summary>host[:port] as the upstream's Host field (the port left out when it is 80), nginx's <c>$proxy_host</c>.</summary>
    public string Authority { get; }

    /// <summary>The path prefix without a trailing slash; empty for none.</summary>
    public string PathPrefix { get; }

    /// <summary>Its keep-alive connections (set by the pool that owns it).</summary>
    public UpstreamConnectionPool Connections { get; set; } = null!;

    /// <summary>Requests sent to it and not finished yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    public void Enter() => Interlocked.Increment(ref _outstanding);

    public void Leave() => Interlocked.Decrement(ref _outstanding);

    /// <summary>True while it rests after a failure (nginx's max_fails=1 / fail_timeout).</summary>
    public bool IsDown(long now) => Volatile.Read(ref _downUntil) > now;

    public void MarkDown(long until) => Volatile.Write(ref _downUntil, until);

    /// <summary>True when it was taken out at some point and not yet seen healthy again.</summary>
    public bool WasMarkedDown => Volatile.Read(ref _downUntil) != 0;

    public void MarkUp() => Volatile.Write(ref _downUntil, 0);

    /// <summary>
    /// Rate-limits failure logging: true for the first failure in each <paramref name="intervalMs"/> (that one is
    /// logged), with how many went unlogged since the last logged line; false for the rest, which are only counted.
    /// An outage answered thousands of times a second then costs one line per interval instead of one per request.
    /// </summary>
    public bool TryClaimLogLine(long now, long intervalMs, out int unlogged)
    {
        var last = Volatile.Read(ref _lastLogLine);
        if ((last != 0 && now - last < intervalMs) || Interlocked.CompareExchange(ref _lastLogLine, now, last) != last)
        {
            Interlocked.Increment(ref _unlogged);
            unlogged = 0;
            return false;
        }

        unlogged = Interlocked.Exchange(ref _unlogged, 0);
        return true;
    }

    public override string ToString() => Name;
}
