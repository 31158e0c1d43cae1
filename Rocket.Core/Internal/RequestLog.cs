using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>The per-request lines: metrics, the access log and <c>Rocket.Requests</c> (Rocket's format).</summary>
internal static class RequestLog
{
    /// <summary>The line for an upgraded connection's end: how long it lived and what crossed it after the 101 (upgrades are HTTP/1.1 only).</summary>
    public static void UpgradedClosed(ConnectionTransport connection, string method, string target, long requestStart, long bytesIn, long bytesOut)
    {
        var log = RocketLog.Requests;
        if (!log.IsInfoEnabled)
        {
            return;
        }

        log.Info(
            "{0} - \"{1} {2} {3}\" - 101 closed after {4:0.###} ms: {5} bytes in, {6} bytes out",
            connection.RemoteEndPoint.Address,
            method,
            target,
            "HTTP/1.1",
            Stopwatch.GetElapsedTime(requestStart).TotalMilliseconds,
            bytesIn,
            bytesOut);
    }

    public static void Completed(HttpExchange exchange, int status)
    {
        if (exchange.Server.Metrics is not { } metrics)
        {
            return;
        }

        metrics.RequestCompleted(status, exchange.Response.BodyBytesWritten);
        AccessLog.Write(exchange, status);
        var log = RocketLog.Requests;
        if (!log.IsInfoEnabled)
        {
            return;
        }

        var request = exchange.Request;
        var ms = Stopwatch.GetElapsedTime(exchange.RequestStart).TotalMilliseconds;

        // Rocket's format: 127.0.0.1 - "GET / HTTP/1.1" - 200 14, then the duration.
        log.Info(
            "{0} - \"{1} {2} {3}\" - {4} {5} {6:0.###} ms",
            exchange.Connection.RemoteEndPoint.Address,
            request.Method,
            request.Target,
            request.Protocol,
            status,
            exchange.Response.BodyBytesWritten,
            ms);
    }
}
