using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>
/// Notices a client that closes while its request still runs within ~100 ms (as Katana's hosts and Nowin did), not at
/// the monitor's next one-second sweep, and also while the handler blocks its thread. A request whose handler asked for
/// <see cref="RequestContext.RequestAborted"/> is enlisted; if it is still running <see cref="Delay"/> later, it gets
/// the disconnect watch (a peek on the socket). Quick requests are dropped unwatched, so they add no system call, and
/// requests that never ask for RequestAborted (plaintext, static files) are never enlisted.
/// </summary>
/// <remarks>The timer (on the <see cref="MonitorThread"/>) runs only while requests are enlisted: an idle server (or one with idle connections only) pays nothing.</remarks>
internal static class EarlyDisconnectWatch
{
    /// <summary>How long a request runs before it is watched: half of the ~100 ms peers take to notice a close.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(50);

    // Ticks come twice per delay, so a request is watched between 50 and 75 ms after it asked.
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(25);

    private static readonly long DelayTicks = (long)(Delay.TotalSeconds * Stopwatch.Frequency);
    private static readonly Lock Gate = new();
    private static readonly MonitorTimer Ticker = new(Tick);
    private static List<Entry> _pending = [];
    private static List<Entry> _ticking = [];
    private static bool _armed;

    /// <summary>Watches <paramref name="context"/>'s request number <paramref name="request"/> if it still runs after <see cref="Delay"/>.</summary>
    public static void Enlist(RequestContext context, int request)
    {
        var entry = new Entry(context, request, Stopwatch.GetTimestamp() + DelayTicks);
        lock (Gate)
        {
            _pending.Add(entry);
            if (!_armed)
            {
                _armed = true;
                Ticker.Change(TickInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private static void Tick()
    {
        List<Entry> due;
        lock (Gate)
        {
            // Only this callback touches _ticking, and the one-shot timer never overlaps itself.
            due = _pending;
            _pending = _ticking;
            _ticking = due;
        }

        var now = Stopwatch.GetTimestamp();
        var keep = 0;
        for (var i = 0; i < due.Count; i++)
        {
            var entry = due[i];
            if (now < entry.Due ? entry.Context.IsRunning(entry.Request) : !entry.Context.TryStartEarlyWatch(entry.Request))
            {
                due[keep++] = entry;
            }
        }

        lock (Gate)
        {
            for (var i = 0; i < keep; i++)
            {
                _pending.Add(due[i]);
            }

            due.Clear();
            if (_pending.Count > 0)
            {
                Ticker.Change(TickInterval, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _armed = false;
            }
        }
    }

    private readonly record struct Entry(RequestContext Context, int Request, long Due);
}
