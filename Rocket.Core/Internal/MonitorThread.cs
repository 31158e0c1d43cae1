using System.Diagnostics;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// The process's one "Rocket monitor" thread, as Rocket has one Monitor thread: it runs the engine's periodic work (the
/// connection sweep, the pool's starvation check, the early disconnect ticks, the status page's sampler) from one wait
/// loop, through <see cref="MonitorTimer"/>s.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Timer"/> callbacks run on the .NET thread pool: ticking every 25-50 ms, they kept its gate
/// thread, two or three of its workers and the runtime's timer thread alive (4-5 threads) in a server whose requests
/// never need that pool, and they queued behind whatever else saturated it, so a blocked pool also stopped the keep-alive
/// timeout and the starvation check. The thread starts with the first armed timer and ends when none is left armed
/// (every server stopped).
/// </remarks>
internal static class MonitorThread
{
    /// <summary>The thread's name (Linux keeps 15 bytes of it: all of it).</summary>
    public const string Name = "Rocket monitor";

    private static readonly Logger Log = RocketLog.Part("Monitor");

    // Monitor.Wait/Pulse need an object lock (System.Threading.Lock has no condition variable).
    private static readonly object Gate = new();
    private static readonly List<MonitorTimer> Armed = [];
    private static Thread? _thread;

    // While the thread waits: the timestamp it waits for (a timer due sooner must wake it); long.MinValue while it runs.
    private static long _wakeAt = long.MinValue;

    /// <summary>Arms <paramref name="timer"/> (see <see cref="MonitorTimer.Change"/>).</summary>
    public static void Schedule(MonitorTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            Disarm(timer, dispose: false);
            return;
        }

        lock (Gate)
        {
            if (timer.Disposed)
            {
                return;
            }

            timer.DueAt = Stopwatch.GetTimestamp() + ToTicks(dueTime);
            timer.PeriodTicks = period > TimeSpan.Zero ? ToTicks(period) : 0;
            if (!timer.Armed)
            {
                timer.Armed = true;
                Armed.Add(timer);
            }

            if (_thread is null)
            {
                StartThread();
            }
            else if (timer.DueAt < _wakeAt)
            {
                Monitor.Pulse(Gate);
            }
        }
    }

    /// <summary>Disarms <paramref name="timer"/> for good.</summary>
    public static void Remove(MonitorTimer timer) => Disarm(timer, dispose: true);

    private static void Disarm(MonitorTimer timer, bool dispose)
    {
        lock (Gate)
        {
            timer.Disposed |= dispose;
            if (timer.Armed)
            {
                timer.Armed = false;
                Armed.Remove(timer);
            }

            // The thread notices an empty list when it next wakes; a disarmed timer never needs it sooner.
        }
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static void StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = Name };
        try
        {
            thread.Start();
            _thread = thread;
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            // pthread_create refused (a pids limit): the timers stay armed and the next Schedule tries again.
            Log.Error("Could not start the monitor thread: {0} Idle timeouts and pool growth wait until it starts.", e.Message);
        }
    }

    private static void Run()
    {
        var due = new List<MonitorTimer>();
        while (TakeDue(due))
        {
            foreach (var timer in due)
            {
                try
                {
                    timer.Run();
                }
                catch (Exception e)
                {
                    // The callbacks catch their own failures; reaching here is a bug, and the other timers must go on.
                    Log.Error(e, "A periodic job of the monitor thread failed.");
                }
            }

            due.Clear();
        }
    }

    /// <summary>Waits until timers are due and moves them to <paramref name="due"/>; false (the thread ends) when none is armed.</summary>
    private static bool TakeDue(List<MonitorTimer> due)
    {
        lock (Gate)
        {
            while (true)
            {
                if (Armed.Count == 0)
                {
                    _thread = null;
                    return false;
                }

                var now = Stopwatch.GetTimestamp();
                var next = long.MaxValue;
                for (var i = Armed.Count - 1; i >= 0; i--)
                {
                    var timer = Armed[i];
                    if (timer.DueAt <= now)
                    {
                        due.Add(timer);
                        if (timer.PeriodTicks == 0)
                        {
                            timer.Armed = false;
                            Armed.RemoveAt(i);
                            continue;
                        }

                        timer.DueAt += timer.PeriodTicks;
                        if (timer.DueAt <= now)
                        {
                            // Fallen behind by a whole period (a long sweep, a suspended process): no burst of catch-up runs.
                            timer.DueAt = now + timer.PeriodTicks;
                        }
                    }

                    next = Math.Min(next, timer.DueAt);
                }

                if (due.Count > 0)
                {
                    _wakeAt = long.MinValue;
                    return true;
                }

                _wakeAt = next;
                var milliseconds = Math.Ceiling((next - now) * 1000.0 / Stopwatch.Frequency);
                Monitor.Wait(Gate, milliseconds >= int.MaxValue ? Timeout.Infinite : (int)milliseconds);
            }
        }
    }
}
