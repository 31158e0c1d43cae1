namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// The keys of the OWIN WebSocket Extension v0.4 and the Opaque Stream Extension v0.3 (owin.org), as Katana's hosts
/// spelled them (Microsoft.Owin.Host.HttpListener's Constants, Microsoft.Owin.Host.SystemWeb's WebSocketConstants).
/// </summary>
internal static class WebSocketKeys
{
    /// <summary>Request environment: <c>Action&lt;IDictionary&lt;string, object&gt;, Func&lt;IDictionary&lt;string, object&gt;, Task&gt;&gt;</c>, present on a valid handshake.</summary>
    public const string Accept = "websocket.Accept";

    /// <summary>Accept option (string): the subprotocol to answer with; one the client offered.</summary>
    public const string SubProtocol = "websocket.SubProtocol";

    /// <summary>Accept option (int): honoured by Katana's HttpListener host as its receive buffer; accepted and validated here.</summary>
    public const string ReceiveBufferSize = "websocket.ReceiveBufferSize";

    /// <summary>Accept option (TimeSpan): interval of unsolicited pongs keeping the connection alive.</summary>
    public const string KeepAliveInterval = "websocket.KeepAliveInterval";

    /// <summary>Accept option (ArraySegment&lt;byte&gt;): an internal buffer for Katana's HttpListener host; accepted and unused.</summary>
    public const string Buffer = "websocket.Buffer";

    public const string SendAsync = "websocket.SendAsync";
    public const string ReceiveAsync = "websocket.ReceiveAsync";
    public const string CloseAsync = "websocket.CloseAsync";
    public const string CallCancelled = "websocket.CallCancelled";
    public const string Version = "websocket.Version";
    public const string ClientCloseStatus = "websocket.ClientCloseStatus";
    public const string ClientCloseDescription = "websocket.ClientCloseDescription";

    /// <summary>The BCL's context, as Katana's HttpListener host put it (<c>typeof(WebSocketContext).FullName</c>).</summary>
    public const string WebSocketContext = "System.Net.WebSockets.WebSocketContext";

    /// <summary>The BCL socket itself, for applications written against <see cref="System.Net.WebSockets.WebSocket"/>.</summary>
    public const string WebSocket = "System.Net.WebSockets.WebSocket";

    /// <summary>The extension's version, in the WebSocket environment and in server.Capabilities.</summary>
    public const string ExtensionVersion = "1.0";

    /// <summary>Request environment: <c>Action&lt;IDictionary&lt;string, object&gt;, Func&lt;IDictionary&lt;string, object&gt;, Task&gt;&gt;</c>, present on an upgrade request.</summary>
    public const string OpaqueUpgrade = "opaque.Upgrade";
    public const string OpaqueStream = "opaque.Stream";
    public const string OpaqueVersion = "opaque.Version";
    public const string OpaqueCallCancelled = "opaque.CallCancelled";

    /// <summary>Opcodes the extension passes as ints (RFC 6455 §5.2).</summary>
    public const int TextMessage = 0x1;
    public const int BinaryMessage = 0x2;
    public const int CloseMessage = 0x8;
    public const int PingMessage = 0x9;
    public const int PongMessage = 0xA;
}
