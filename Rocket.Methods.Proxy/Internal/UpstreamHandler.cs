using System.Net;

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
    };
}
