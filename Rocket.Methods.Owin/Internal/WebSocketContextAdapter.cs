using System.Collections.Specialized;
using System.Net;
using System.Net.WebSockets;
using System.Security.Principal;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// <see cref="System.Net.WebSockets.WebSocketContext"/> for applications written against Katana's HttpListener host, which
/// put <c>HttpListenerWebSocketContext</c> in the WebSocket environment: the handshake request's facts and the socket.
/// </summary>
/// <remarks>Reads the request head lazily; valid while the WebSocketFunc runs (the request lives as long as the socket).</remarks>
internal sealed class WebSocketContextAdapter(RequestContext context, WebSocket webSocket) : WebSocketContext
{
    private NameValueCollection? _headers;
    private CookieCollection? _cookies;

    public override CookieCollection CookieCollection => _cookies ??= ParseCookies(context.Request.Headers.GetCombined("Cookie"));

    public override NameValueCollection Headers
    {
        get
        {
            if (_headers is null)
            {
                var headers = new NameValueCollection(StringComparer.OrdinalIgnoreCase);
                foreach (var (name, value) in context.Request.Headers)
                {
                    headers.Add(name, value);
                }

                _headers = headers;
            }

            return _headers;
        }
    }

    public override bool IsAuthenticated => false;

    public override bool IsLocal => IPAddress.IsLoopback(context.Connection.RemoteEndPoint.Address);

    public override bool IsSecureConnection => context.Connection.IsSecure;

    public override string Origin => context.Request.Headers["Origin"] ?? string.Empty;

    public override Uri RequestUri
        => new($"{(context.Connection.IsSecure ? "wss" : "ws")}://{(context.Request.Host.Length > 0 ? context.Request.Host : context.Connection.LocalEndPoint.ToString())}{context.Request.Target}");

    public override string SecWebSocketKey => context.Request.Headers["Sec-WebSocket-Key"] ?? string.Empty;

    public override IEnumerable<string> SecWebSocketProtocols => WebSocketHandshake.OfferedSubProtocols(context.Request);

    public override string SecWebSocketVersion => context.Request.Headers["Sec-WebSocket-Version"] ?? string.Empty;

    public override IPrincipal? User => null;

    public override WebSocket WebSocket => webSocket;

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
