using System.Diagnostics;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// The process's one monitor loop, as Rocket has one Monitor: it runs the engine's periodic work (the connection sweep,
/// the pool's starvation check, the early disconnect ticks, the status page's sampler, a listener's pause) through
/// <see cref="MonitorTimer"/>s, on a thread that waits for a server anyway (<see cref="RunUntil"/>: the one that called
/// <c>Rocket.Start(background: false)</c>, as Rocket's <c>start()</c> runs its loop in the caller's thread) or else on a
/// dedicated "Rocket monitor" thread. One thread runs the loop at a time.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Timer"/> callbacks run on the .NET thread pool: ticking every 25-50 ms, they kept its gate
/// thread, two or three of its workers and the runtime's timer thread alive (4-5 threads) in a server whose requests
/// never need that pool, and they queued behind whatever else saturated it, so a blocked pool also stopped the keep-alive
/// timeout and the starvation check. The dedicated thread starts with the first armed timer while no thread has been
/// lent, and ends when none is left armed (every server stopped) or when a thread is lent; a lent thread that returns
/// (its server stopped) hands the loop to another lent thread, or to a new dedicated thread while timers are armed (other
/// servers of the process, the status page's).
/// </remarks>
internal static class MonitorThread
{
    /// <summary>The thread's name (Linux keeps 15 bytes of it: all of it).</summary>
    public const string Name = "Rocket monitor";

    private static readonly Logger Log = RocketLog.Part("Monitor");

    // Monitor.Wait/Pulse need an object lock (System.Threading.Lock has no condition variable).
    private static readonly object Gate = new();
    private static readonly List<MonitorTimer> Armed = [];
    // The thread running the loop (lent or dedicated), or null; the threads lent (running it or waiting for their turn).
    private static Thread? _runner;
    private static int _lent;

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

            if (_runner is null)
            {
                if (_lent > 0)
                {
                    Monitor.PulseAll(Gate);
                }
                else
                {
                    StartThread();
                }
            }
            else if (timer.DueAt < _wakeAt)
            {
                Monitor.PulseAll(Gate);
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

    /// <summary>
    /// Lends the calling thread: it runs the loop until <paramref name="done"/> is true (checked whenever the loop wakes:
    /// call <see cref="Wake"/> after making it true), taking over from the dedicated thread, then hands the loop on.
    /// </summary>
    public static void RunUntil(Func<bool> done)
    {
        lock (Gate)
        {
            _lent++;

            // The dedicated thread, if running, retires at its next look (it sees a lent thread) and hands over.
            Monitor.PulseAll(Gate);
        }

        try
        {
            Run(done);
        }
        finally
        {
            lock (Gate)
            {
                _lent--;
                if (_runner == Thread.CurrentThread)
                {
                    _runner = null;
                    _wakeAt = long.MinValue;
                }

                // Also when this thread never ran it: the dedicated thread may have retired for it.
                if (_runner is null && Armed.Count > 0)
                {
                    if (_lent > 0)
                    {
                        Monitor.PulseAll(Gate);
                    }
                    else
                    {
                        StartThread();
                    }
                }
            }
        }
    }

    /// <summary>Wakes the loop's threads to look again (a lent thread's condition may have come true).</summary>
    public static void Wake()
    {
        lock (Gate)
        {
            Monitor.PulseAll(Gate);
        }
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static void StartThread()
    {
        var thread = new Thread(() => Run(done: null)) { IsBackground = true, Name = Name };
        try
        {
            thread.Start();
            _runner = thread;
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            // pthread_create refused (a pids limit): the timers stay armed and the next Schedule tries again.
            Log.Error("Could not start the monitor thread: {0} Idle timeouts and pool growth wait until it starts.", e.Message);
        }
    }

    private static void Run(Func<bool>? done)
    {
        var due = new List<MonitorTimer>();
        while (TakeDue(due, done))
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

    /// <summary>
    /// Waits until timers are due and moves them to <paramref name="due"/>; false when the thread must leave the loop: a lent
    /// thread when <paramref name="done"/> is true, the dedicated thread (<paramref name="done"/> null) when none is armed or
    /// a thread has been lent.
    /// </summary>
    private static bool TakeDue(List<MonitorTimer> due, Func<bool>? done)
    {
        var current = Thread.CurrentThread;
        lock (Gate)
        {
            while (true)
            {
                if (done is null)
                {
                    if (Armed.Count == 0 || _lent > 0)
                    {
                        _runner = null;
                        _wakeAt = long.MinValue;
                        Monitor.PulseAll(Gate);
                        return false;
                    }
                }
                else if (done())
                {
                    return false;
                }
                else if (_runner != current)
                {
                    if (_runner is not null)
                    {
                        // Another thread runs the loop: wait for it to leave it (or for done).
                        Monitor.Wait(Gate);
                        continue;
                    }

                    _runner = current;
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
                var milliseconds = next == long.MaxValue ? double.MaxValue : Math.Ceiling((next - now) * 1000.0 / Stopwatch.Frequency);
                Monitor.Wait(Gate, milliseconds >= int.MaxValue ? Timeout.Infinite : (int)milliseconds);
            }
        }
    }
}
