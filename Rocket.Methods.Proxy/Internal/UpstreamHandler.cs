using System.Net;
using System.Text;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>The one SocketsHttpHandler a proxy worker sends through: pooled keep-alive connections, nothing a proxy must not do.</summary>
internal static class UpstreamHandler
{
    public static SocketsHttpHandler Create(ProxyOptions options) => new()
    {
        // A proxy passes things through: no cookies, redirects, decompression, system proxy or trace headers of its own.
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
        ActivityHeadersPropagator = null,
        PooledConnectionIdleTimeout = options.KeepAliveTimeout,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        MaxConnectionsPerServer = options.MaxConnections == 0 ? int.MaxValue : options.MaxConnections,
        ConnectTimeout = options.ConnectTimeout,

        // Long enough for an upstream that honours 100-continue; one that ignores it gets the body after this.
        Expect100ContinueTimeout = TimeSpan.FromSeconds(1),
        MaxResponseHeadersLength = 64,

        // A response disposed before its end (client gone, malformed framing) closes its connection instead of being
        // drained back into the pool: the upstream sees the cancellation, and a suspect connection is not reused.
        MaxResponseDrainSize = 0,

        // Field values are bytes: obs-text (RFC 9110 §5.5) passes through as it came instead of failing the request.
        RequestHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
        ResponseHeaderEncodingSelector = static (_, _) => Encoding.Latin1,
    };

    /// <summary>A handler for <c>OPTIONS *</c> alone: its connections rewrite the marker target to <c>*</c> (see <see cref="AsteriskFormStream"/>).</summary>
    public static SocketsHttpHandler CreateForAsteriskForm(ProxyOptions options)
    {
        var handler = Create(options);
        handler.PlaintextStreamFilter = static (context, _) => ValueTask.FromResult<Stream>(new AsteriskFormStream(context.PlaintextStream));
        return handler;
    }
}
