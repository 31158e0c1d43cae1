using System.Collections.Specialized;
using System.Net;
using System.Net.WebSockets;
using System.Security.Principal;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// <see cref="System.Net.WebSockets.WebSocketContext"/> for applications written against Katana's HttpListener host, which
/// put <c>HttpListenerWebSocketContext</c> in the WebSocket environment: the handshake request's facts and the socket.
/// </summary>
/// <remarks>
/// Made on first read, after the 101, from what the session kept of the handshake request (the server has taken the
/// request's own objects back by then): the connection, the target and the header fields (<paramref name="fields"/>:
/// name, value, name, value, ...).
/// </remarks>
internal sealed class WebSocketContextAdapter(Connection connection, string target, string[] fields, WebSocket webSocket) : WebSocketContext
{
    private NameValueCollection? _headers;
    private CookieCollection? _cookies;

    public override CookieCollection CookieCollection => _cookies ??= ParseCookies(Combined("Cookie"));

    public override NameValueCollection Headers
    {
        get
        {
            if (_headers is null)
            {
                var headers = new NameValueCollection(StringComparer.OrdinalIgnoreCase);
                for (var i = 0; i < fields.Length; i += 2)
                {
                    headers.Add(fields[i], fields[i + 1]);
                }

                _headers = headers;
            }

            return _headers;
        }
    }

    public override bool IsAuthenticated => false;

    public override bool IsLocal => IPAddress.IsLoopback(connection.RemoteEndPoint.Address);

    public override bool IsSecureConnection => connection.IsSecure;

    public override string Origin => First("Origin") ?? string.Empty;

    public override Uri RequestUri
        => new($"{(connection.IsSecure ? "wss" : "ws")}://{(First("Host") is { Length: > 0 } host ? host : connection.LocalEndPoint.ToString())}{target}");

    public override string SecWebSocketKey => First("Sec-WebSocket-Key") ?? string.Empty;

    public override IEnumerable<string> SecWebSocketProtocols => WebSocketHandshake.OfferedSubProtocols(Combined("Sec-WebSocket-Protocol"));

    public override string SecWebSocketVersion => First("Sec-WebSocket-Version") ?? string.Empty;

    public override IPrincipal? User => null;

    public override WebSocket WebSocket => webSocket;

    private string? First(string name)
    {
        for (var i = 0; i < fields.Length; i += 2)
        {
            if (string.Equals(fields[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return fields[i + 1];
            }
        }

        return null;
    }

    /// <summary>RFC 9110 §5.3: repeated fields combine into one comma-separated value.</summary>
    private string? Combined(string name)
    {
        string? combined = null;
        for (var i = 0; i < fields.Length; i += 2)
        {
            if (string.Equals(fields[i], name, StringComparison.OrdinalIgnoreCase))
            {
                combined = combined is null ? fields[i + 1] : combined + ", " + fields[i + 1];
            }
        }

        return combined;
    }

    private static CookieCollection ParseCookies(string? header)
    {
        var cookies = new CookieCollection();
        if (header is null)
        {
            return cookies;
        }

        foreach (var pair in header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                try
                {
                    cookies.Add(new Cookie(pair[..equals], pair[(equals + 1)..].Trim('"')));
                }
                catch (CookieException)
                {
                    // A cookie the BCL refuses (e.g. a comma in the value) is left out, as HttpListener did.
                }
            }
        }

        return cookies;
    }
}
