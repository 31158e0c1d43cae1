namespace RocketOwin.Methods.Owin.Internal;

/// <summary>What a call to <c>websocket.Accept</c> settled: its options read and checked, with the server's defaults filled in.</summary>
internal sealed class WebSocketAcceptOptions
{
    public string? SubProtocol { get; init; }

    public TimeSpan KeepAliveInterval { get; init; }

    /// <summary>websocket_max_message_size: bytes one message may total (0: no limit).</summary>
    public long MaxMessageSize { get; init; }

    /// <summary>Reads Katana's accept options (each optional; a value of the wrong type fails the accept, naming the key).</summary>
    /// <param name="options">The application's accept options, or null.</param>
    /// <param name="offered">The subprotocols the client offered.</param>
    /// <param name="keepAlive">The server's default keep-alive interval.</param>
    /// <param name="maxMessageSize">The server's message size limit.</param>
    public static WebSocketAcceptOptions Read(IDictionary<string, object>? options, string[] offered, TimeSpan keepAlive, long maxMessageSize)
    {
        string? subProtocol = null;
        if (options is not null)
        {
            if (options.TryGetValue(WebSocketKeys.SubProtocol, out var sub) && sub is not null)
            {
                subProtocol = sub as string ?? throw Wrong(WebSocketKeys.SubProtocol, sub, "a string");
            }

            if (options.TryGetValue(WebSocketKeys.KeepAliveInterval, out var interval) && interval is not null)
            {
                keepAlive = interval is TimeSpan t && t >= TimeSpan.Zero ? t : throw Wrong(WebSocketKeys.KeepAliveInterval, interval, "a non-negative TimeSpan");
            }

            // Katana's HttpListener host sized its native buffers with these; the BCL framing needs neither, but a wrong type is still a bug to report.
            if (options.TryGetValue(WebSocketKeys.ReceiveBufferSize, out var size) && size is not null && !(size is int n && n > 0))
            {
                throw Wrong(WebSocketKeys.ReceiveBufferSize, size, "a positive int");
            }

            if (options.TryGetValue(WebSocketKeys.Buffer, out var buffer) && buffer is not null and not ArraySegment<byte>)
            {
                throw Wrong(WebSocketKeys.Buffer, buffer, "an ArraySegment<byte>");
            }
        }

        // RFC 6455 §4.2.2 (5.5): the server answers with one of the subprotocols the client offered, or with none.
        if (subProtocol is { Length: 0 })
        {
            subProtocol = null;
        }

        if (subProtocol is not null && !offered.Contains(subProtocol, StringComparer.Ordinal))
        {
            throw new ArgumentException($"websocket.SubProtocol '{subProtocol}' was not offered by the client (Sec-WebSocket-Protocol: {(offered.Length == 0 ? "none" : string.Join(", ", offered))}).", nameof(options));
        }

        return new WebSocketAcceptOptions { SubProtocol = subProtocol, KeepAliveInterval = keepAlive, MaxMessageSize = maxMessageSize };
    }

    private static ArgumentException Wrong(string key, object value, string expected)
        => new($"The websocket.Accept option '{key}' must be {expected}; got {value} ({value.GetType().Name}).", nameof(key));
}
