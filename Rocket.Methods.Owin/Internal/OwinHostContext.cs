namespace RocketOwin.Methods.Owin.Internal;

/// <summary>What every request's environment shares: built once by the worker at startup.</summary>
internal sealed class OwinHostContext
{
    public OwinHostContext(IDictionary<string, object> capabilities, TextWriter traceOutput, CancellationToken appDisposing)
    {
        Capabilities = capabilities;
        TraceOutput = traceOutput;
        AppDisposing = appDisposing;
    }

    /// <summary>server.Capabilities.</summary>
    public IDictionary<string, object> Capabilities { get; }

    /// <summary>host.TraceOutput.</summary>
    public TextWriter TraceOutput { get; }

    /// <summary>host.OnAppDisposing.</summary>
    public CancellationToken AppDisposing { get; }

    /// <summary>websocket_keep_alive: the default interval of keep-alive pongs on an accepted WebSocket.</summary>
    public TimeSpan WebSocketKeepAlive { get; init; } = OwinOptions.DefaultWebSocketKeepAlive;

    /// <summary>websocket_max_message_size: bytes one WebSocket message may total (0: no limit).</summary>
    public long WebSocketMaxMessageSize { get; init; } = OwinOptions.DefaultWebSocketMaxMessageSize;

    /// <summary>The open WebSockets, told to go away when the server stops.</summary>
    public WebSocketSessionList WebSocketSessions { get; } = new();

    /// <summary>A test or a benchmark may build environments without a server.</summary>
    public static OwinHostContext CreateDefault()
        => new(new Dictionary<string, object>(StringComparer.Ordinal), TextWriter.Null, CancellationToken.None);
}
