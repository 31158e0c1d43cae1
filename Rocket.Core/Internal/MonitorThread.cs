using System.Diagnostics;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// The process's one monitor loop, as Rocket has one Monitor: it runs the engine's periodic work (the connection sweep,
/// the pool's starvation check, the early disconnect ticks, the status page's sampler, a listener's pause) through
/// <see cref="MonitorTimer"/>s, on a thread that waits for a server anyway (<see cref="RunUntil"/>: the one that called
/// <c>Rocket.Start(background: false)</c>, as Rocket's <c>start()</c> runs its loop in the caller's thread) or else on a
/// dedicated "Rocket monitor" thread. One thread runs the loop at a time. With Rocket's epoll loop on (<see cref="Attach"/>)
/// that thread runs it too: it waits in the loop's epoll_wait(2) with the next timer as the timeout, serves the edges, then
/// runs the timers due, so the loop adds no thread.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Timer"/> callbacks run on the .NET thread pool: ticking every 25-50 ms, they kept its gate
/// thread, two or three of its workers and the runtime's timer thread alive (4-5 threads) in a server whose requests
/// never need that pool, and they queued behind whatever else saturated it, so a blocked pool also stopped the keep-alive
/// timeout and the starvation check. The dedicated thread starts with the first armed timer while no thread has been
/// lent, and ends when none is left armed (every server stopped) or when a thread is lent; a lent thread that returns
/// (its server stopped) hands the loop to another lent thread, or to a new dedicated thread while timers are armed (other
/// servers of the process, the status page's). With the epoll loop, registered sockets keep the thread as armed timers do;
/// a hand-over loses no edge, as the epoll set keeps every edge that came after the last epoll_wait for the next runner,
/// and only the runner calls epoll_wait. A timer armed sooner than the wait, a lent thread's arrival or departure, and
/// <see cref="Wake"/> write the loop's eventfd, which is in the epoll set.
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

    // Rocket's epoll loop when it is on (Attach): the runner waits in its epoll_wait, not in Monitor.Wait, and serves its
    // edges between timers; _polling while it waits there (or is about to), _signalled once its eventfd was written since.
    private static EpollLoop? _loop;
    private static bool _polling;
    private static bool _signalled;

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
                HandOver();
            }
            else if (timer.DueAt < _wakeAt)
            {
                WakeRunner();
            }
        }
    }

    /// <summary>
    /// Makes the thread that runs the timers also run <paramref name="loop"/> (the process's epoll loop): it waits in the
    /// loop's epoll_wait until the next timer is due, so the loop adds no thread. Called once, when the loop is made.
    /// </summary>
    public static void Attach(EpollLoop loop)
    {
        lock (Gate)
        {
            _loop = loop;
            Monitor.PulseAll(Gate); // a runner in Monitor.Wait goes to wait in epoll_wait instead
        }
    }

    /// <summary>
    /// The attached loop's sockets came or went (its first registration, its last one gone): gives it a thread if none runs
    /// the loop, or wakes the one that does (a dedicated thread with nothing left to serve ends).
    /// </summary>
    public static void Demand()
    {
        lock (Gate)
        {
            if (_runner is null)
            {
                if (HasWork)
                {
                    HandOver();
                }
            }
            else
            {
                WakeRunner();
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
            WakeRunner();
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
                    _polling = false;
                }

                // Also when this thread never ran it: the dedicated thread may have retired for it. Edges that came since
                // this thread's last epoll_wait stay queued in the epoll set for the next runner (none is lost).
                if (_runner is null && HasWork)
                {
                    HandOver();
                }
            }
        }
    }

    /// <summary>Wakes the loop's threads to look again (a lent thread's condition may have come true).</summary>
    public static void Wake()
    {
        lock (Gate)
        {
            WakeRunner();
        }
    }

    // Whether a thread must run the loop: timers armed, or the attached epoll loop's sockets to serve. Under Gate.
    private static bool HasWork => Armed.Count > 0 || _loop is { Serving: true };

    // Under Gate, with no runner: a lent thread takes the loop, else a new dedicated thread.
    private static void HandOver()
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

    // Under Gate: wakes the threads in Monitor.Wait, and the runner out of epoll_wait (through the loop's eventfd, once per
    // wait). The runner itself, calling from a timer or an edge's continuation, is not waiting: it looks again anyway.
    private static void WakeRunner()
    {
        Monitor.PulseAll(Gate);
        if (_polling && !_signalled && _runner != Thread.CurrentThread)
        {
            _signalled = true;
            _loop!.Signal();
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
        while (TakeDue(due, done, out var poll, out var timeout))
        {
            if (poll is not null)
            {
                if (!poll.Poll(timeout))
                {
                    Detach(poll);
                }

                continue;
            }

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

    // The loop's epoll_wait failed for good (logged): the timers go on with Monitor.Wait.
    private static void Detach(EpollLoop loop)
    {
        lock (Gate)
        {
            if (_loop == loop)
            {
                _loop = null;
            }
        }
    }

    /// <summary>
    /// Waits until timers are due and moves them to <paramref name="due"/>, or, with an epoll loop attached, returns it in
    /// <paramref name="poll"/> to wait in (<paramref name="timeout"/> ms: until the next timer) and serve; false when the
    /// thread must leave the loop: a lent thread when <paramref name="done"/> is true, the dedicated thread
    /// (<paramref name="done"/> null) when it has nothing to run (no timer armed, no socket registered) or a thread has been lent.
    /// </summary>
    private static bool TakeDue(List<MonitorTimer> due, Func<bool>? done, out EpollLoop? poll, out int timeout)
    {
        var current = Thread.CurrentThread;
        poll = null;
        timeout = 0;
        lock (Gate)
        {
            if (_runner == current)
            {
                // Back from epoll_wait (or a timer batch): a wake from now on must write the eventfd again.
                _polling = false;
                _signalled = false;
            }

            while (true)
            {
                if (done is null)
                {
                    if (!HasWork || _lent > 0)
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
                var wait = milliseconds >= int.MaxValue ? Timeout.Infinite : (int)milliseconds;
                if (_loop is { } loop)
                {
                    // Only the runner waits in the set's epoll_wait: two threads never do at once.
                    _polling = true;
                    poll = loop;
                    timeout = wait;
                    return true;
                }

                Monitor.Wait(Gate, wait);
            }
        }
    }
}
