using NLog;

namespace RocketOwin.Methods.Owin.Internal;

using UpgradeDelegate = Action<IDictionary<string, object>, Func<IDictionary<string, object>, Task>>;

/// <summary>
/// What the environment offers on an HTTP/1.1 upgrade request: <c>opaque.Upgrade</c> (Opaque Stream Extension v0.3)
/// and, on a valid RFC 6455 handshake, <c>websocket.Accept</c> (WebSocket Extension v0.4). As in Katana's hosts, the
/// application calls one of them and returns; when its task completes with the status still 101 the server sends
/// the 101 (running server.OnSendingHeaders callbacks) and calls the application's callback on the upgraded connection.
/// </summary>
/// <remarks>One per connection's environment, reset for each upgrade request; used by one request at a time.</remarks>
internal sealed class OpaqueUpgradeOffer
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Owin.WebSockets");
    private readonly OwinEnvironment _environment;
    private readonly OwinHostContext _host;
    private readonly UpgradeDelegate _accept;
    private readonly UpgradeDelegate _upgrade;
    private RequestContext? _context;
    private Func<IDictionary<string, object>, Task>? _webSocketFunc;
    private WebSocketAcceptOptions? _acceptOptions;
    private Func<IDictionary<string, object>, Task>? _opaqueFunc;

    public OpaqueUpgradeOffer(OwinEnvironment environment, OwinHostContext host)
    {
        _environment = environment;
        _host = host;
        _accept = Accept;
        _upgrade = OpaqueUpgrade;
    }

    /// <summary>
    /// Answers a WebSocket handshake the server cannot accept, before the application runs: 426 with the version
    /// spoken for another version (RFC 6455 §4.2.2), 400 for a malformed one (§4.2.1). False: the request goes on.
    /// </summary>
    public static bool RefuseBadHandshake(RequestContext context)
    {
        var kind = WebSocketHandshake.Classify(context.Request);
        if (kind is WebSocketRequestKind.NotWebSocket or WebSocketRequestKind.Valid)
        {
            return false;
        }

        var response = context.Response;
        if (kind == WebSocketRequestKind.UnsupportedVersion)
        {
            response.StatusCode = 426;
            response.Headers.Set("Sec-WebSocket-Version", WebSocketHandshake.SupportedVersion);
        }
        else
        {
            response.StatusCode = 400;
        }

        response.Headers.Set("Content-Length", "0");
        Log.Debug("{0} {1} from {2}: WebSocket handshake refused ({3}).", context.Request.Method, context.Request.Target, context.Connection.RemoteEndPoint, kind);
        return true;
    }

    /// <summary>Puts opaque.Upgrade (and websocket.Accept for a valid handshake) in the environment for this request.</summary>
    public OpaqueUpgradeOffer Offer(RequestContext context)
    {
        _context = context;
        _webSocketFunc = null;
        _acceptOptions = null;
        _opaqueFunc = null;
        _environment[WebSocketKeys.OpaqueUpgrade] = _upgrade;
        if (WebSocketHandshake.Classify(context.Request) == WebSocketRequestKind.Valid)
        {
            _environment[WebSocketKeys.Accept] = _accept;
        }

        return this;
    }

    /// <summary>Awaits the application; then, if it accepted and left the status at 101, runs the upgraded connection.</summary>
    /// <remarks>
    /// An application that accepts and returns a completed task (the usual shape) gets its connection run by static
    /// methods that keep neither this offer nor the request's environment alive while the socket stays open.
    /// </remarks>
    public Task CompleteAsync(Task app) => app.IsCompletedSuccessfully ? Upgrade() : AwaitThenUpgradeAsync(app, this);

    /// <remarks>
    /// This state machine lives as long as the upgraded connection: once the upgrade has started it lets go of the offer
    /// (and so of the request's environment, which the offer holds) and of the application's task.
    /// </remarks>
    private static async Task AwaitThenUpgradeAsync(Task app, OpaqueUpgradeOffer offer)
    {
        await app.ConfigureAwait(false);
        var upgraded = offer.Upgrade();
        offer = null!;
        app = null!;
        await upgraded.ConfigureAwait(false);
    }

    private Task Upgrade()
    {
        var context = _context!;
        var response = context.Response;
        if ((_webSocketFunc is null && _opaqueFunc is null) || response.StatusCode != 101)
        {
            return Task.CompletedTask;
        }

        if (response.HasStarted || response.BodyBytesWritten > 0)
        {
            throw new InvalidOperationException("The application accepted an upgrade and then wrote a response body; a 101 has no body.");
        }

        if (_webSocketFunc is not { } webSocketFunc)
        {
            return RunOpaqueAsync(context, _environment, _opaqueFunc!);
        }

        var options = _acceptOptions!;
        var headers = response.Headers;

        // Katana's hosts also took the subprotocol from a Sec-WebSocket-Protocol response header; the accept option wins.
        if (options.SubProtocol is null && headers.TryGetValue("Sec-WebSocket-Protocol", out var fromHeader))
        {
            options = WebSocketAcceptOptions.Read(new Dictionary<string, object> { [WebSocketKeys.SubProtocol] = fromHeader }, WebSocketHandshake.OfferedSubProtocols(context.Request), options.KeepAliveInterval, options.MaxMessageSize);
        }

        // RFC 6455 §4.2.2 (5): the server's handshake.
        headers.Set("Upgrade", "websocket");
        headers.Set("Connection", "Upgrade");
        headers.Set("Sec-WebSocket-Accept", WebSocketHandshake.AcceptKey(context.Request.Headers["Sec-WebSocket-Key"]!));
        headers.Remove("Sec-WebSocket-Protocol");
        if (options.SubProtocol is not null)
        {
            headers.Set("Sec-WebSocket-Protocol", options.SubProtocol);
        }

        return WebSocketSession.RunAsync(context, _environment, webSocketFunc, options, _host.WebSocketSessions);
    }

    /// <summary>The request is over for the offer once it switched protocols (the environment's <see cref="OwinEnvironment.Detach"/>).</summary>
    public void Detach() => _context = null;

    /// <remarks>
    /// The parameters are cleared once the upgrade is done: this state machine lives as long as the connection, and the
    /// request's context is the server's again (it may already serve another request); opaque.CallCancelled is the
    /// request's abort token taken before the upgrade (it fires when the server gives up waiting at Stop).
    /// </remarks>
    private static async Task RunOpaqueAsync(RequestContext context, OwinEnvironment? outer, Func<IDictionary<string, object>, Task> opaqueFunc)
    {
        var headers = context.Response.Headers;

        // RFC 9110 §15.2.2: a 101 names the protocol switched to; the one the client asked for unless the application chose.
        if (!headers.Contains("Upgrade"))
        {
            headers.Set("Upgrade", context.Request.Headers.GetCombined("Upgrade")!);
        }

        headers.Set("Connection", "Upgrade");
        var cancelled = context.RequestAborted;
        var stream = await context.UpgradeAsync().ConfigureAwait(false);
        outer!.Detach(() => cancelled);
        context = null!;
        outer = null;
        var environment = new Dictionary<string, object>(3, StringComparer.Ordinal)
        {
            [WebSocketKeys.OpaqueStream] = stream,
            [WebSocketKeys.OpaqueVersion] = WebSocketKeys.ExtensionVersion,
            [WebSocketKeys.OpaqueCallCancelled] = cancelled,
        };
        Task task;
        using (AppSynchronizationContext.Enter())
        {
            task = opaqueFunc(environment);
        }

        await task.ConfigureAwait(false);
    }

    private void Accept(IDictionary<string, object>? options, Func<IDictionary<string, object>, Task> webSocketFunc)
    {
        ArgumentNullException.ThrowIfNull(webSocketFunc);
        var context = Begin();
        _acceptOptions = WebSocketAcceptOptions.Read(options, WebSocketHandshake.OfferedSubProtocols(context.Request), _host.WebSocketKeepAlive, _host.WebSocketMaxMessageSize);
        _webSocketFunc = webSocketFunc;
        context.Response.StatusCode = 101;
    }

    private void OpaqueUpgrade(IDictionary<string, object>? parameters, Func<IDictionary<string, object>, Task> opaqueFunc)
    {
        ArgumentNullException.ThrowIfNull(opaqueFunc);
        var context = Begin();
        _opaqueFunc = opaqueFunc;
        context.Response.StatusCode = 101;
    }

    private RequestContext Begin()
    {
        var context = _context ?? throw new InvalidOperationException("The upgrade delegate is used outside its request.");
        if (_webSocketFunc is not null || _opaqueFunc is not null)
        {
            throw new InvalidOperationException("This request was already accepted for an upgrade (websocket.Accept or opaque.Upgrade is called once).");
        }

        _environment.ThrowIfHeadersLocked();
        return context;
    }
}
