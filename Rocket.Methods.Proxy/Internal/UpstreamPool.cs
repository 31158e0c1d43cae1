namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Picks an upstream for each request (round robin or least requests) and applies passive health:
/// an upstream that refused or timed out is skipped for <c>fail_timeout</c>, then tried again.
/// </summary>
/// <remarks>Thread-safe; called on every request.</remarks>
internal sealed class UpstreamPool
{
    private readonly Upstream[] _upstreams;
    private readonly BalanceMode _balance;
    private readonly long _failTimeoutMs;
    private int _next = -1;

    public UpstreamPool(ProxyOptions options)
    {
        _upstreams = [.. options.Upstreams.Select(u => new Upstream(u) { Connections = new UpstreamConnectionPool(u, options) })];
        _balance = options.Balance;
        _failTimeoutMs = (long)options.FailTimeout.TotalMilliseconds;
    }

    public IReadOnlyList<Upstream> All => _upstreams;

    /// <summary>
    /// The upstream for the next request, never <paramref name="exclude"/> when another exists. Upstreams
    /// resting after a failure are skipped unless all are resting; then the one picked anyway is the probe
    /// that finds out whether it came back.
    /// </summary>
    public Upstream Select(Upstream? exclude = null)
    {
        if (_upstreams.Length == 1)
        {
            return _upstreams[0];
        }

        var now = Environment.TickCount64;
        return _balance == BalanceMode.LeastRequests
            ? SelectLeastRequests(now, exclude)
            : SelectRoundRobin(now, exclude);
    }

    /// <summary>Takes <paramref name="upstream"/> out for fail_timeout. A lone upstream is never taken out: there is nowhere else to go.</summary>
    public void ReportFailure(Upstream upstream)
    {
        if (_upstreams.Length > 1 && _failTimeoutMs > 0)
        {
            upstream.MarkDown(Environment.TickCount64 + _failTimeoutMs);
        }
    }

    public static void ReportSuccess(Upstream upstream)
    {
        if (upstream.WasMarkedDown)
        {
            upstream.MarkUp();
        }
    }

    private Upstream SelectRoundRobin(long now, Upstream? exclude)
    {
        var n = _upstreams.Length;
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)n);
        Upstream? fallback = null;
        for (var i = 0; i < n; i++)
        {
            var candidate = _upstreams[(start + i) % n];
            if (candidate == exclude)
            {
                continue;
            }

            if (!candidate.IsDown(now))
            {
                return candidate;
            }

            fallback ??= candidate;
        }

        return fallback ?? exclude!;
    }

    private Upstream SelectLeastRequests(long now, Upstream? exclude)
    {
        // Ties go round robin so equal upstreams share the load instead of the first one taking it all.
        var n = _upstreams.Length;
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)n);
        Upstream? best = null;
        Upstream? fallback = null;
        for (var i = 0; i < n; i++)
        {
            var candidate = _upstreams[(start + i) % n];
            if (candidate == exclude)
            {
                continue;
            }

            if (candidate.IsDown(now))
            {
                fallback ??= candidate;
                continue;
            }

            if (best is null || candidate.Outstanding < best.Outstanding)
            {
                best = candidate;
            }
        }

        return best ?? fallback ?? exclude!;
    }
}
