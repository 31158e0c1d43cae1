using System.Globalization;
using System.Runtime.CompilerServices;
using NLog;
using RocketOwin;
using RocketOwin.Internal;
using RocketOwin.Methods.Proxy;
using RocketOwin.Methods.Proxy.Internal;

[assembly: RocketMethod("proxy", typeof(ProxyWorker))]

namespace RocketOwin.Methods.Proxy;

/// <summary>
/// The <c>proxy</c> method: forwards each request to an upstream HTTP/1.1 server and streams the answer
/// back (what nginx's proxy_pass does). Upstream connections are Rocket's own HTTP/1.1 client: pooled and
/// kept alive per upstream, responses framed strictly; bodies stream both ways through bounded pooled buffers.
/// </summary>
/// <remarks>
/// One instance per server; <see cref="HandleAsync"/> runs concurrently. Failures: refused or unreachable
/// upstream -> 502, no response head within <c>upstream_timeout</c> -> 504, upstream failing mid-body ->
/// the client connection is aborted, client gone -> the upstream request is cancelled. Each is logged once
/// on <c>Rocket.Errors.Proxy</c>, naming the upstream.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The sweep timer lives from Initialize to Shutdown, which disposes it.")]
public sealed class ProxyWorker : Worker
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Proxy");
    private static readonly byte[] BadGatewayBody = "502 Bad Gateway: the upstream server could not be reached.\n"u8.ToArray();
    private static readonly byte[] GatewayTimeoutBody = "504 Gateway Timeout: the upstream server did not answer in time.\n"u8.ToArray();
    private static readonly byte[] MalformedResponseBody = "502 Bad Gateway: the upstream server sent a malformed response.\n"u8.ToArray();
    private static readonly byte[] NotImplementedBody = "501 Not Implemented: this proxy does not forward that method.\n"u8.ToArray();

    /// <summary>Retries on a fresh connection after this many pooled ones turned out closed (an upstream restart closes them all).</summary>
    private const int MaxStaleRetries = 2;

    /// <summary>Upstream failures are logged once per upstream per interval, with a count: an outage must not flood the log.</summary>
    private const long FailureLogIntervalMs = 10_000;

    /// <summary>How often the pools' sweep runs: it times upstream waits and ages idle connections out.</summary>
    private const int SweepIntervalMs = 100;

    private ProxyOptions _options = null!;
    private UpstreamPool _pool = null!;
    private UpstreamExchange _exchange = null!;
    private MonitorTimer? _sweep;

    /// <summary>The validated settings; available once the server started.</summary>
    public ProxyOptions Options => _options ?? throw new InvalidOperationException("The proxy worker is not initialized yet.");

    /// <inheritdoc />
    /// <remarks>Every key README.md documents; any other key stops the server at start (a typo must not pass silently).</remarks>
    protected internal override IReadOnlyCollection<string> AppInfoKeys { get; } = ["upstream", "balance", "fail_timeout", "upstream_timeout", "connect_timeout", "keepalive_timeout", "max_connections", "preserve_host", "x_forwarded", "forwarded", "via", "path_base", "buffer_size", "underscores_in_headers", "splice"];

    /// <inheritdoc />
    /// <remarks>
    /// Every wait of the proxy is awaited (upstream connect, sends and receives, the client's body and its sends, splice's
    /// full pipe), so its requests start on the socket engine's thread like its upstream answers already finish there.
    /// </remarks>
    protected internal override bool NeverBlocks => true;

    /// <inheritdoc />
    protected override void Initialize()
    {
        _options = ProxyOptions.From(AppInfo);
        _pool = new UpstreamPool(_options);
        _exchange = new UpstreamExchange(_options, new RequestWriter(_options), new ResponseHeadCopier(_options));
        // On Rocket's monitor thread with the engine's own periodic work, not a System.Threading.Timer: with the sockets'
        // inline completions nothing else on the proxy's path needs the .NET thread pool (no gate or pool workers started).
        _sweep = new MonitorTimer(Sweep, TimeSpan.FromMilliseconds(SweepIntervalMs), TimeSpan.FromMilliseconds(SweepIntervalMs));
    }

    /// <inheritdoc />
    protected override void Shutdown()
    {
        _sweep?.Dispose();
        if (_pool is not null)
        {
            foreach (var upstream in _pool.All)
            {
                upstream.Connections.CloseAll();
            }
        }
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    protected override async ValueTask HandleAsync(RequestContext context)
    {
        var head = context.Request;
        var method = head.Method;

        // RFC 9110 §9.3.6: CONNECT asks for a tunnel, which a reverse proxy does not open. Every other method is
        // forwarded exactly as received (§9.1: methods are case-sensitive; `head` is not HEAD).
        if (method == "CONNECT")
        {
            Log.Debug("{0} {1} from {2}: method not forwarded; answered 501.", method, head.Target, context.Connection.RemoteEndPoint);
            WriteError(context.Response, 501, NotImplementedBody);
            return;
        }

        if (!TryMapPath(head.RawPath, out var path))
        {
            context.Response.StatusCode = 404;
            return;
        }

        if (_options.PreserveHost && head.Host.Length > 0 && !RequestWriter.IsForwardableHost(head.Host))
        {
            throw new BadRequestException(RequestRejectionReason.InvalidHost, $"preserve_host cannot forward Host {head.Host}");
        }

        var upstream = _pool.Select();
        var retriedElsewhere = false;
        var staleRetries = 0;
        while (true)
        {
            UpstreamConnection connection;
            upstream.Enter();
            try
            {
                connection = await upstream.Connections.AcquireAsync(fresh: staleRetries >= MaxStaleRetries).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or TimeoutException)
            {
                upstream.Leave();
                _pool.ReportFailure(upstream);
                var timedOut = e is TimeoutException;
                if (!timedOut && !retriedElsewhere && UpstreamExchange.IsIdempotent(method) && _pool.All.Count > 1)
                {
                    LogFailure(upstream, LogLevel.Warn, "{0} {1}: upstream {2} refused or is unreachable ({3}); retrying on another upstream.", method, head.Target, upstream, e.Message);
                    retriedElsewhere = true;
                    upstream = _pool.Select(exclude: upstream);
                    continue;
                }

                var status = timedOut ? 504 : 502;
                LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} {3} ({4}); answered {5}.", method, head.Target, upstream,
                    timedOut ? "could not be connected to within connect_timeout" : "refused or is unreachable", e.Message, status);
                WriteError(context.Response, status, timedOut ? GatewayTimeoutBody : BadGatewayBody);
                return;
            }

            (UpstreamExchange.Outcome Outcome, string? Failure) result;
            try
            {
                result = await _exchange.RunAsync(context, upstream, connection, path).ConfigureAwait(false);
            }
            catch (UpstreamBodyException e)
            {
                LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} failed during the response body ({3}); client connection aborted.", method, head.Target, upstream, e.Message);
                throw;
            }
            catch (OperationCanceledException)
            {
                Log.Debug("{0} {1}: the client went away; request to upstream {2} cancelled.", method, head.Target, upstream);
                throw;
            }
            finally
            {
                upstream.Leave();
            }

            switch (result.Outcome)
            {
                case UpstreamExchange.Outcome.Done:
                    return;
                case UpstreamExchange.Outcome.Retry:
                    // A pooled connection the upstream had closed: nothing of the request reached it, so it is sent again.
                    staleRetries++;
                    continue;
                case UpstreamExchange.Outcome.Malformed:
                    // RFC 9112 §6.3: a proxy that gets an invalidly framed response discards it (closing that connection) and answers 502.
                    LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} sent a malformed response ({3}); answered 502.", method, head.Target, upstream, result.Failure);
                    WriteError(context.Response, 502, MalformedResponseBody);
                    return;
                default:
                    var timedOut = result.Outcome == UpstreamExchange.Outcome.GatewayTimeout;
                    if (timedOut)
                    {
                        _pool.ReportFailure(upstream);
                    }

                    LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} {3}; answered {4}.", method, head.Target, upstream, result.Failure, timedOut ? 504 : 502);
                    WriteError(context.Response, timedOut ? 504 : 502, timedOut ? GatewayTimeoutBody : BadGatewayBody);
                    return;
            }
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var upstream in _pool.All)
        {
            upstream.Connections.Sweep(now);
        }
    }

    /// <summary>Strips path_base; false when the request lies outside it. <c>*</c> is about the server, not a path: it always passes.</summary>
    private bool TryMapPath(string rawPath, out string path)
    {
        var pathBase = _options.PathBase;
        if (pathBase.Length == 0 || rawPath == "*")
        {
            path = rawPath;
            return true;
        }

        // Segment boundary: /api matches /api and /api/x, never /apix.
        if (rawPath.StartsWith(pathBase, StringComparison.Ordinal) && (rawPath.Length == pathBase.Length || rawPath[pathBase.Length] == '/'))
        {
            path = rawPath.Length == pathBase.Length ? "/" : rawPath[pathBase.Length..];
            return true;
        }

        path = string.Empty;
        return false;
    }

    private static void WriteError(Response response, int status, byte[] body)
    {
        response.StatusCode = status;
        response.Headers.Clear();
        response.Headers.ContentType = "text/plain; charset=utf-8";
        response.Write(body);
    }

    /// <summary>Logs an upstream failure unless this upstream already had a line within the interval; the next line carries the count.</summary>
    private static void LogFailure(Upstream upstream, LogLevel level, string format, params object?[] args)
    {
        if (!Log.IsEnabled(level) || !upstream.TryClaimLogLine(Environment.TickCount64, FailureLogIntervalMs, out var unlogged))
        {
            return;
        }

        var text = string.Format(CultureInfo.InvariantCulture, format, args);
        if (unlogged > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" {unlogged} more failures of {upstream} since the last line were not logged.");
        }

        Log.Log(level, "{0}", text);
    }
}
