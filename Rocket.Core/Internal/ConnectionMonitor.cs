using System.Diagnostics;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's connection monitor. Idle connections wait in the runtime's epoll engine (a zero-byte read each,
/// see <see cref="ConnectionTransport.WaitForData"/>), so no thread is pinned by them; this class sweeps them once a
/// second: idle past the keep-alive timeout -> closed; a request head still incomplete past
/// <see cref="ServerLimits.RequestHeadersTimeout"/> (a whole-head deadline from its first byte) or arriving slower than
/// <see cref="ServerLimits.MinRequestBodyDataRate"/> -> 408 and closed; a body read waiting longer than
/// <see cref="ServerLimits.IOTimeout"/> (asynchronous reads have no other deadline) -> 408 and closed; a body read or a response write below its minimum
/// data rate, or a send the client acknowledges nothing of for <see cref="ServerLimits.IOTimeout"/> -> cut (408 when a
/// response can still be written, else aborted); a request whose asynchronous handler is
/// still running gets a disconnect watch (so RequestAborted fires if its client leaves). The same tick refreshes the Date header.
/// </summary>
internal sealed class ConnectionMonitor : IDisposable
{
    private static readonly Logger Log = RocketLog.Part("Monitor");
    private static readonly byte[] RequestTimeoutResponse =
        "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    private readonly ConnectionTable _table;
    private readonly long _idleTimeoutTicks;
    private readonly long _headTimeoutTicks;
    private readonly double? _minReadRate;
    private readonly long _readGraceTicks;
    private readonly long _ioTimeoutTicks;
    private readonly MonitorTimer _timer;
    private int _sweeping;

    public ConnectionMonitor(ConnectionTable table, TimeSpan idleTimeout, ServerLimits limits, TimeSpan interval)
    {
        _table = table;
        _idleTimeoutTicks = (long)(idleTimeout.TotalSeconds * Stopwatch.Frequency);
        _headTimeoutTicks = (long)(limits.RequestHeadersTimeout.TotalSeconds * Stopwatch.Frequency);
        _minReadRate = limits.MinRequestBodyDataRate;
        _readGraceTicks = (long)(limits.MinRequestBodyDataRateGracePeriod.TotalSeconds * Stopwatch.Frequency);
        _ioTimeoutTicks = (long)(limits.IOTimeout.TotalSeconds * Stopwatch.Frequency);
        _timer = new MonitorTimer(Sweep, interval, interval);
    }

    /// <summary>Called after each sweep with its timestamp (the server trims its pooled exchanges there).</summary>
    public Action<long>? AfterSweep { get; set; }

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
            var now = Stopwatch.GetTimestamp();
            _table.ForEach(now, SweepOne);
            AfterSweep?.Invoke(now);
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

    private void SweepOne(ConnectionTransport c, long now)
    {
        if (!c.IsIdle)
        {
            if (c.HandshakeDeadline is var handshakeDeadline && handshakeDeadline != 0 && now > handshakeDeadline && !c.IsClosed)
            {
                // Both directions: the pending receive (the ClientHello's peek or the handshake's read) ends, and the
                // handshake fails and closes the connection on its own path.
                RocketLog.Main.Debug("Connection {0} from {1} did not finish its TLS handshake within TlsHandshakeTimeout; cut.", c.Id, c.RemoteEndPoint);
                c.HandshakeDeadline = 0;
                c.CutStalledTransfer(receiveOnly: false);
                return;
            }

            if (c.WriteDeadline is var deadline && deadline != 0 && now > deadline && !c.IsClosed)
            {
                RocketLog.Main.Debug("Connection {0} from {1} took a response slower than MinResponseDataRate; aborted.", c.Id, c.RemoteEndPoint);
                c.CutStalledTransfer(receiveOnly: false);
                return;
            }

            if ((c.Exchange is { } sending ? sending.SendStalled(now, _ioTimeoutTicks) : c.Upgraded is { } upgraded && upgraded.SendStalled(now, _ioTimeoutTicks)) && !c.IsClosed)
            {
                RocketLog.Main.Debug("Connection {0} from {1} acknowledged nothing of a response for IOTimeout; aborted.", c.Id, c.RemoteEndPoint);
                c.CutStalledTransfer(receiveOnly: false);
                return;
            }

            if (c.Exchange is { } waiting && waiting.BodyWaitTimedOut(now, _ioTimeoutTicks) && !c.IsClosed)
            {
                RocketLog.Main.Debug("Connection {0} from {1} sent nothing of a request body for IOTimeout; cut.", c.Id, c.RemoteEndPoint);
                c.CutStalledTransfer(receiveOnly: true);
                return;
            }

            if (_minReadRate is { } rate && c.Exchange is { } reading && reading.BodyBelowMinimumRate(now, rate, _readGraceTicks) && !c.IsClosed)
            {
                RocketLog.Main.Debug("Connection {0} from {1} sent a request body slower than MinRequestBodyDataRate; cut.", c.Id, c.RemoteEndPoint);
                c.CutStalledTransfer(receiveOnly: true);
                return;
            }

            // A request still running asynchronously: from now on, notice if its client goes away.
            if (c.Exchange is { HandlerPending: true } exchange && exchange.Body.IsComplete)
            {
                exchange.Context.StartDisconnectWatch();
            }

            return;
        }

        var headStarted = c.HeadStartedAt;
        var partialHead = c.Exchange?.BufferedInput ?? 0;

        // A head whose first bytes are in must keep coming at the minimum request rate too (a 1 B/s drip is cut after the
        // grace period, as Apache's mod_reqtimeout MinRate does), and all of it within the whole-head deadline.
        var dripping = headStarted != 0 && partialHead > 0 && _minReadRate is { } minRate
            && now - headStarted > _readGraceTicks && partialHead < minRate * (now - headStarted) / Stopwatch.Frequency;
        if (headStarted != 0 && (dripping || now - headStarted > _headTimeoutTicks))
        {
            var partial = partialHead > 0;
            if (c.TryCloseIdle(beforeClose: partial ? RequestTimeoutResponse : null))
            {
                if (partial)
                {
                    c.Server.Metrics?.Rejected(RequestRejectionReason.RequestHeadersTimeout);
                }

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
