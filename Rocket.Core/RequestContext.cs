using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>Everything a <see cref="Worker"/> needs to answer one request.</summary>
/// <remarks>
/// One instance per connection, reused for each of its requests: use it only until the handler's task
/// completes. Not thread-safe: one request runs at a time on a connection.
/// </remarks>
public sealed class RequestContext
{
    private readonly HttpExchange _exchange;
    private CancellationTokenSource? _aborted;

    internal RequestContext(HttpExchange exchange) => _exchange = exchange;

    /// <summary>The connection the request arrived on.</summary>
    public Connection Connection => _exchange.Connection;

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
    public CancellationToken RequestAborted => (_aborted ??= new CancellationTokenSource()).Token;

    /// <summary>Stopwatch timestamp of the request's arrival (when its head was parsed).</summary>
    public long StartTimestamp => _exchange.RequestStart;

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
    }

    internal void ResetForNextRequest()
    {
        if (_aborted is not null && !_aborted.TryReset())
        {
            _aborted.Dispose();
            _aborted = null;
        }
    }
}
