using System.Diagnostics;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's connection monitor. Idle connections wait in the runtime's epoll engine (a zero-byte read each,
/// see <see cref="Connection.WaitForData"/>), so no thread is pinned by them; this class sweeps them once a
/// second: idle past the keep-alive timeout -> closed; a request head still incomplete past
/// <see cref="ServerLimits.RequestHeadersTimeout"/> -> 408 and closed; a request whose asynchronous handler is still
/// running gets a disconnect watch (so RequestAborted fires if its client leaves). The same tick refreshes the Date header.
/// </summary>
internal sealed class ConnectionMonitor : IDisposable
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Monitor");
    private static readonly byte[] RequestTimeoutResponse =
        "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    private readonly ConnectionTable _table;
    private readonly long _idleTimeoutTicks;
    private readonly long _headTimeoutTicks;
    private readonly Timer _timer;
    private int _sweeping;

    public ConnectionMonitor(ConnectionTable table, TimeSpan idleTimeout, TimeSpan headTimeout, TimeSpan interval)
    {
        _table = table;
        _idleTimeoutTicks = (long)(idleTimeout.TotalSeconds * Stopwatch.Frequency);
        _headTimeoutTicks = (long)(headTimeout.TotalSeconds * Stopwatch.Frequency);
        _timer = new Timer(_ => Sweep(), null, interval, interval);
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>One pass over the table; public for tests.</summary>
    public void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            DateHeader.Refresh();
            _table.ForEach(Stopwatch.GetTimestamp(), SweepOne);
        }
        catch (Exception e)
        {
            Log.Error(e, "Connection monitor sweep failed.");
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private void SweepOne(Connection c, long now)
    {
        if (!c.IsIdle)
        {
            // A request still running asynchronously: from now on, notice if its client goes away.
            if (c.Exchange is { HandlerPending: true } exchange && exchange.Body.IsComplete)
            {
                exchange.Context.StartDisconnectWatch();
            }

            return;
        }

        var headStarted = c.HeadStartedAt;
        if (headStarted != 0 && now - headStarted > _headTimeoutTicks)
        {
            var partial = c.Exchange is { BufferedInput: > 0 };
            if (c.TryCloseIdle(beforeClose: partial ? RequestTimeoutResponse : null))
            {
                RocketLog.Main.Debug("Connection {0} from {1} timed out reading the request head.", c.Id, c.RemoteEndPoint);
            }

            return;
        }

        if (headStarted == 0 && now - c.IdleSince > _idleTimeoutTicks && c.TryCloseIdle(beforeClose: null))
        {
            RocketLog.Main.Debug("Connection {0} closed after the keep-alive timeout.", c.Id);
        }
    }
}
