using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using NLog;
using RocketOwin.Methods.Proxy.Internal;

namespace RocketOwin.Methods.Proxy;

/// <summary>
/// The <c>proxy</c> method: forwards each request to an upstream HTTP/1.1 server and streams the answer
/// back (what nginx's proxy_pass does). Upstream connections are pooled and kept alive by one
/// SocketsHttpHandler; bodies stream both ways through bounded pooled buffers.
/// </summary>
/// <remarks>
/// One instance per server; <see cref="HandleAsync"/> runs concurrently. Failures: refused or unreachable
/// upstream -> 502, no response head within <c>upstream_timeout</c> -> 504, upstream failing mid-body ->
/// the client connection is aborted, client gone -> the upstream request is cancelled. Each is logged once
/// on <c>Rocket.Errors.Proxy</c>, naming the upstream.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The invoker lives from Initialize to Shutdown, which disposes it.")]
public sealed class ProxyWorker : Worker
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Proxy");
    private static readonly byte[] BadGatewayBody = "502 Bad Gateway: the upstream server could not be reached.\n"u8.ToArray();
    private static readonly byte[] GatewayTimeoutBody = "504 Gateway Timeout: the upstream server did not answer in time.\n"u8.ToArray();
    private static readonly byte[] MalformedResponseBody = "502 Bad Gateway: the upstream server sent a malformed response.\n"u8.ToArray();
    private static readonly byte[] NotImplementedBody = "501 Not Implemented: this proxy does not forward that method.\n"u8.ToArray();

    /// <summary>Upstream failures are logged once per upstream per interval, with a count: an outage must not flood the log.</summary>
    private const long FailureLogIntervalMs = 10_000;

    private ProxyOptions _options = null!;
    private UpstreamPool _pool = null!;
    private RequestBuilder _requests = null!;
    private ResponseHeadCopier _heads = null!;
    private HttpMessageInvoker _invoker = null!;
    private HttpMessageInvoker? _asteriskInvoker;

    /// <summary>The settings read at start.</summary>
    public ProxyOptions Options => _options;

    /// <inheritdoc />
    /// <remarks>Every key README.md documents; any other key stops the server at start (a typo must not pass silently).</remarks>
    protected override IReadOnlyCollection<string> AppInfoKeys { get; } = ["upstream", "balance", "fail_timeout", "upstream_timeout", "connect_timeout", "keepalive_timeout", "max_connections", "preserve_host", "x_forwarded", "forwarded", "via", "path_base", "buffer_size", "underscores_in_headers"];

    /// <inheritdoc />
    protected override void Initialize()
    {
        _options = ProxyOptions.From(AppInfo);
        _pool = new UpstreamPool(_options.Upstreams, _options.Balance, _options.FailTimeout);
        _requests = new RequestBuilder(_options);
        _heads = new ResponseHeadCopier(_options);
        _invoker = new HttpMessageInvoker(UpstreamHandler.Create(_options), disposeHandler: true);
    }

    /// <inheritdoc />
    protected override void Shutdown()
    {
        _invoker?.Dispose();
        _asteriskInvoker?.Dispose();
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask HandleAsync(RequestContext context)
    {
        // Touch the token before the first await: the core then watches the socket for the client leaving.
        var clientGone = context.RequestAborted;
        var method = context.Request.Method;

        // RFC 9110 §9.3.6: CONNECT asks for a tunnel, which a reverse proxy does not open. A method SocketsHttpHandler
        // would rewrite (any case of a standard one, §9.1) cannot be forwarded as received.
        if (method == "CONNECT" || RequestBuilder.UpstreamMethod(method) is null)
        {
            Log.Debug("{0} {1} from {2}: method not forwarded; answered 501.", method, context.Request.Target, context.Connection.RemoteEndPoint);
            WriteError(context.Response, 501, NotImplementedBody);
            return;
        }

        if (!TryMapPath(context.Request.RawPath, out var path))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var upstreamToken = UpstreamTokenSource.Rent(clientGone);
        try
        {
            var (upstream, response) = await SendAsync(context, path, upstreamToken, clientGone).ConfigureAwait(false);
            if (response is null)
            {
                return; // a 502/504 was written
            }

            await RelayAsync(context, upstream, response, upstreamToken, clientGone).ConfigureAwait(false);
        }
        finally
        {
            upstreamToken.Return();
        }
    }

    /// <summary>Sends the upstream's response (or tunnels after a 101), then releases it and the upstream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RelayAsync(RequestContext context, Upstream upstream, HttpResponseMessage response, UpstreamTokenSource upstreamToken, CancellationToken clientGone)
    {
        try
        {
            if (response.StatusCode == HttpStatusCode.SwitchingProtocols && context.Request.IsUpgradeRequest)
            {
                await TunnelAsync(context, upstream, response).ConfigureAwait(false);
                return;
            }

            if (MalformedResponse(response) is { } why)
            {
                // RFC 9112 §6.3: a proxy that gets an invalidly framed response discards it (closing that connection) and answers 502.
                LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} sent a malformed response ({3}); answered 502.", context.Request.Method, context.Request.Target, upstream, why);
                WriteError(context.Response, 502, MalformedResponseBody);
                return;
            }

            _heads.Copy(response, context);

            // SocketsHttpHandler's response content hands its stream over synchronously: no Task<Stream> per request.
            var body = response.Content.ReadAsStream(upstreamToken.Token);
            await BodyCopier.CopyAsync(body, context.Response, _options.BufferSize, upstreamToken, _options.UpstreamTimeout, clientGone).ConfigureAwait(false);
        }
        catch (UpstreamBodyException e)
        {
            LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} failed during the response body ({3}); client connection aborted.", context.Request.Method, context.Request.Target, upstream, e.Message);
            throw;
        }
        catch (Exception e) when (clientGone.IsCancellationRequested || e is IOException)
        {
            Log.Debug("{0} {1}: the client went away; request to upstream {2} cancelled.", context.Request.Method, context.Request.Target, upstream);
            throw;
        }
        finally
        {
            // Disposing before the body ended closes the upstream connection: that is the cancellation it sees.
            response.Dispose();
            upstream.Leave();
        }
    }

    /// <summary>Sends the request, retrying once on another upstream when that is safe. Null response: the error response was written.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(Upstream Upstream, HttpResponseMessage? Response)> SendAsync(RequestContext context, string path, UpstreamTokenSource upstreamToken, CancellationToken clientGone)
    {
        var head = context.Request;
        var upstream = _pool.Select();
        var retried = false;
        upstreamToken.CancelAfter(_options.UpstreamTimeout);
        while (true)
        {
            var content = head.HasBody ? new RequestBodyContent(context.RequestBody, head.ContentLength, _options.BufferSize, upstreamToken, _options.UpstreamTimeout) : null;
            var request = _requests.Build(context, upstream, path, content);
            upstream.Enter();
            try
            {
                var invoker = head.Target == "*" ? AsteriskInvoker() : _invoker;
                var response = await invoker.SendAsync(request, upstreamToken.Token).ConfigureAwait(false);
                upstreamToken.CancelAfter(Timeout.InfiniteTimeSpan);
                UpstreamPool.ReportSuccess(upstream);
                return (upstream, response);
            }
            catch (Exception e)
            {
                upstream.Leave();
                if (content?.ClientFailure is { } clientFailure)
                {
                    // The client's body was malformed, too large or cut off: that is the client's error, not the upstream's.
                    ExceptionDispatchInfo.Throw(clientFailure);
                }

                if (clientGone.IsCancellationRequested)
                {
                    Log.Debug("{0} {1}: the client went away while upstream {2} was asked; request cancelled.", head.Method, head.Target, upstream);
                    throw;
                }

                var timedOut = upstreamToken.IsCancellationRequested || e is OperationCanceledException || e.InnerException is TimeoutException;
                var refused = !timedOut && e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
                if (timedOut || refused)
                {
                    _pool.ReportFailure(upstream);
                }

                if (refused && !retried && IsIdempotent(head.Method) && content?.Started != true && _pool.All.Count > 1)
                {
                    LogFailure(upstream, LogLevel.Warn, "{0} {1}: upstream {2} refused or is unreachable ({3}); retrying on another upstream.", head.Method, head.Target, upstream, e.Message);
                    retried = true;
                    upstream = _pool.Select(exclude: upstream);
                    continue;
                }

                var status = timedOut ? 504 : 502;
                LogFailure(upstream, LogLevel.Error, "{0} {1}: upstream {2} {3} ({4}); answered {5}.", head.Method, head.Target, upstream,
                    timedOut ? "did not answer within upstream_timeout" : refused ? "refused or is unreachable" : "failed before its response head", Describe(e), status);
                WriteError(context.Response, status, status == 504 ? GatewayTimeoutBody : BadGatewayBody);
                return (upstream, null);
            }
            finally
            {
                request.Dispose();
            }
        }
    }

    private async Task TunnelAsync(RequestContext context, Upstream upstream, HttpResponseMessage response)
    {
        _heads.Copy(response, context);
        var upstreamStream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        var clientStream = await context.UpgradeAsync().ConfigureAwait(false);
        Log.Debug("{0} {1}: tunnelling to upstream {2} ({3}).", context.Request.Method, context.Request.Target, upstream, context.Response.Headers["Upgrade"]);
        await Tunnel.RunAsync(clientStream, upstreamStream, _options.BufferSize, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The invoker for <c>OPTIONS *</c>, made on first use: rare, so it gets its own small pool rather than a filter on every connection.</summary>
    private HttpMessageInvoker AsteriskInvoker()
    {
        if (Volatile.Read(ref _asteriskInvoker) is { } existing)
        {
            return existing;
        }

        var created = new HttpMessageInvoker(UpstreamHandler.CreateForAsteriskForm(_options), disposeHandler: true);
        if (Interlocked.CompareExchange(ref _asteriskInvoker, created, null) is { } other)
        {
            created.Dispose();
            return other;
        }

        return created;
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

    /// <summary>Why the upstream's response cannot be relayed, or null when it can.</summary>
    private static string? MalformedResponse(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.SwitchingProtocols)
        {
            // RFC 9110 §15.2.2: 101 only answers an Upgrade request (one that did was tunnelled before this).
            return "101 Switching Protocols to a request that did not ask to upgrade";
        }

        if (!response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var lengths))
        {
            return null;
        }

        if (response.Headers.NonValidated.Contains("Transfer-Encoding"))
        {
            return "Content-Length with Transfer-Encoding";
        }

        ReadOnlySpan<char> first = default;
        foreach (var value in lengths)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var length = value.AsSpan(range).Trim(' ');
                if (length.IsEmpty || length.ContainsAnyExceptInRange('0', '9'))
                {
                    return "an invalid Content-Length";
                }

                if (first.IsEmpty)
                {
                    first = length;
                }
                else if (!first.SequenceEqual(length))
                {
                    return "differing Content-Length values";
                }
            }
        }

        return null;
    }

    // RFC 9110 §9.2.2.
    private static bool IsIdempotent(string method)
        => method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    private static string Describe(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            message += ": " + inner.Message;
        }

        return message;
    }
}
