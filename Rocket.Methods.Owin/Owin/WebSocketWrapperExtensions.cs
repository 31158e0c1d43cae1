namespace Owin;

/// <summary>
/// Katana's <c>Microsoft.WebSockets.Owin</c> adapter, which gave HttpListener- and System.Web-hosted apps the OWIN
/// WebSocket extension on .NET 4.5. Rocket offers <c>websocket.Accept</c> itself, so the call only keeps such
/// Startups compiling unchanged.
/// </summary>
public static class WebSocketWrapperExtensions
{
    /// <summary>Kept for source compatibility: the server already offers <c>websocket.Accept</c>; returns <paramref name="builder"/>.</summary>
    public static IAppBuilder UseWebSocketWrapper(this IAppBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}
