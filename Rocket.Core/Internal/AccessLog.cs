using System.Diagnostics;
using System.Globalization;
using System.Text;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// The <c>Rocket.Access</c> logger: one line per request in the Combined Log Format plus the duration in microseconds,
/// Apache's <c>LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D"</c>, so log analysers
/// (GoAccess, AWStats, ...) read it as they read Apache's and nginx's. Silent unless a rule enables it at Info (the
/// rocket command's <c>--access-log</c> adds one; in nlog.config, a rule for <c>Rocket.Access</c>): disabled, it costs
/// one level check per request.
/// </summary>
internal static class AccessLog
{
    public const string LoggerName = "Rocket.Access";

    public static Logger Logger { get; } = LogManager.GetLogger(LoggerName);

    public static void Write(HttpExchange exchange, int status)
    {
        if (!Logger.IsInfoEnabled)
        {
            return;
        }

        Logger.Info(Format(exchange, status, DateTimeOffset.Now));
    }

    /// <summary>The line for one request; <paramref name="now"/> is when it finished (the line shows when it arrived, as %t does).</summary>
    internal static string Format(HttpExchange exchange, int status, DateTimeOffset now)
    {
        var request = exchange.Request;
        var elapsed = exchange.RequestStart == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(exchange.RequestStart);
        var arrived = now - elapsed;
        var bytes = exchange.Response.BodyBytesWritten;
        var line = new StringBuilder(160);
        line.Append(exchange.Connection.RemoteEndPoint.Address.ToString()).Append(" - - [");

        // %t: [10/Oct/2000:13:55:36 -0700]
        line.Append(arrived.ToString("dd/MMM/yyyy:HH:mm:ss ", CultureInfo.InvariantCulture));
        var offset = arrived.Offset;
        line.Append(offset < TimeSpan.Zero ? '-' : '+').Append(offset.Duration().ToString("hhmm", CultureInfo.InvariantCulture)).Append("] \"");
        if (request.Method.Length == 0)
        {
            // A request refused before its request line was read: Apache logs "-" too.
            line.Append('-');
        }
        else
        {
            Escaped(line, request.Method).Append(' ');
            Escaped(line, request.Target).Append(' ').Append(request.Protocol);
        }

        line.Append("\" ").Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ');
        line.Append(bytes > 0 ? bytes.ToString(CultureInfo.InvariantCulture) : "-").Append(" \"");
        Escaped(line, request.Headers["Referer"] ?? "-").Append("\" \"");
        Escaped(line, request.Headers["User-Agent"] ?? "-").Append("\" ");
        line.Append(((long)elapsed.TotalMicroseconds).ToString(CultureInfo.InvariantCulture));
        return line.ToString();
    }

    /// <summary>Quotes and backslashes escaped, control and non-ASCII bytes as \xHH, as Apache does: a field can never break the line apart.</summary>
    private static StringBuilder Escaped(StringBuilder line, string value)
    {
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                line.Append('\\').Append(c);
            }
            else if (c < 0x20 || c >= 0x7f)
            {
                line.Append("\\x").Append(((int)c & 0xff).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                line.Append(c);
            }
        }

        return line;
    }
}
