using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>Connections with bytes to serve, waiting for a worker thread (Rocket's active queue).</summary>
/// <remarks>
/// <para>
/// A ring buffer under a lock rather than a ConcurrentQueue: the starvation timer peeks at the head 20 times a second
/// while the pool is saturated, and ConcurrentQueue.TryPeek stops the peeked segment's slots from being reused, so
/// every 32 enqueues after a peek allocated a new segment (~50 KB/s of garbage at constant load, an RSS creep until
/// the first collection). Queue&lt;T&gt; reuses its array; the lock is held for a few instructions.
/// </para>
/// <para>
/// Idle workers park without spinning, the most recent on top. An enqueue wakes the most recently parked worker (LIFO: its
/// stack and caches are the warmest; the others stay asleep and can retire), unless one already woken has not yet looked
/// at the queue: that one takes a connection and wakes the next if more are queued. So a burst of readable connections wakes workers one after another as they get a
/// processor, never several for one connection, and a worker that finishes a connection takes the next queued one
/// without parking. This replaced a SemaphoreSlim, whose waiters spin
/// (sched_yield) before they block and whose every release wakes a waiter: on a 2-core machine with 4 workers, perf put
/// 8-14% of a loaded server's samples (up to a third, with other processes running) in idle workers yielding, CPU taken
/// from the threads doing the work.
/// </para>
/// </remarks>
internal sealed class ActiveQueue
{
    [ThreadStatic]
    private static ParkedWorker? _parking;

    private readonly Lock _gate = new();
    private readonly Queue<(ConnectionTransport Connection, long QueuedAt)> _queue = new();
    private readonly List<ParkedWorker> _parked = [];
    private int _waking;
    private int _wakes;

    /// <summary>Called after every enqueue so the pool can grow while connections wait.</summary>
    public Action? Enqueued { get; set; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Workers parked in <see cref="Take"/> now.</summary>
    public int ParkedCount
    {
        get
        {
            lock (_gate)
            {
                return _parked.Count;
            }
        }
    }

    /// <summary>How long the connection at the head of the queue has waited; zero when the queue is empty.</summary>
    public TimeSpan OldestWait
    {
        get
        {
            long queuedAt;
            lock (_gate)
            {
                if (!_queue.TryPeek(out var head))
                {
                    return TimeSpan.Zero;
                }

                queuedAt = head.QueuedAt;
            }

            return Stopwatch.GetElapsedTime(queuedAt);
        }
    }

    public void Enqueue(ConnectionTransport connection)
    {
        ParkedWorker? woken;
        lock (_gate)
        {
            _queue.Enqueue((connection, Stopwatch.GetTimestamp()));
            woken = WakeOneIfNeeded();
        }

        woken?.Wake();
        Enqueued?.Invoke();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a connection; null on timeout or when woken by <see cref="Wake"/>.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="waited">How long the connection waited in the queue.</param>
    public ConnectionTransport? Take(TimeSpan timeout, out TimeSpan waited)
    {
        waited = TimeSpan.Zero;
        var self = _parking ??= new ParkedWorker();
        var started = Stopwatch.GetTimestamp();
        var woken = false;
        while (true)
        {
            (ConnectionTransport Connection, long QueuedAt) entry;
            ParkedWorker? next;
            bool taken;
            lock (_gate)
            {
                if (woken)
                {
                    _waking--;
                }

                taken = _queue.TryDequeue(out entry);
                if (taken)
                {
                    // More queued: wake the next worker now. Not limited to one worker per processor: the workers holding
                    // connections may be blocked in synchronous handlers (Rocket's model), and a connection left behind
                    // them would wait for the 50 ms starvation check (WakeIfWaiting) while parked workers sleep.
                    next = WakeOneIfNeeded();
                }
                else if (_wakes > 0)
                {
                    _wakes--;
                    return null;
                }
                else
                {
                    var left = timeout < TimeSpan.Zero ? timeout : timeout - Stopwatch.GetElapsedTime(started);
                    if (timeout >= TimeSpan.Zero && left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    self.Reset();
                    _parked.Add(self);
                    next = null;
                    timeout = left;
                    started = Stopwatch.GetTimestamp();
                }
            }

            if (taken)
            {
                next?.Wake();
                waited = Stopwatch.GetElapsedTime(entry.QueuedAt);
                return entry.Connection;
            }

            if (!self.Park(timeout))
            {
                lock (_gate)
                {
                    if (_parked.Remove(self))
                    {
                        return null;
                    }
                }

                // Timed out just as a waker took this worker off the list: its Wake is on the way. Wait for it, so that it
                // cannot arrive during this thread's next park.
                self.Park(Timeout.InfiniteTimeSpan);
            }

            if (self.Stopped)
            {
                return null;
            }

            // Woken for a queued connection; a worker that finished its own may have taken it first: then park again.
            woken = true;
        }
    }

    /// <summary>Makes <paramref name="count"/> calls to <see cref="Take"/> return null at once, parked ones first (used at shutdown).</summary>
    public void Wake(int count)
    {
        List<ParkedWorker> woken = [];
        lock (_gate)
        {
            for (; count > 0 && _parked.Count > 0; count--)
            {
                var w = _parked[^1];
                _parked.RemoveAt(_parked.Count - 1);
                w.Stopped = true;
                woken.Add(w);
            }

            _wakes += Math.Max(count, 0);
        }

        foreach (var w in woken)
        {
            w.Wake();
        }
    }

    /// <summary>Wakes a parked worker when a connection has waited longer than <paramref name="olderThan"/> and no worker is on its way.</summary>
    public void WakeIfWaiting(TimeSpan olderThan)
    {
        ParkedWorker? woken = null;
        lock (_gate)
        {
            if (_queue.TryPeek(out var head) && Stopwatch.GetElapsedTime(head.QueuedAt) > olderThan)
            {
                woken = WakeOneIfNeeded();
            }
        }

        woken?.Wake();
    }

    /// <summary>
    /// Under the lock, with connections queued: takes the most recently parked worker off the list to be woken, unless a
    /// worker already woken has yet to look at the queue (it takes one and wakes the next if more are waiting, so a burst
    /// wakes workers one after another as they get a processor, not all at once).
    /// </summary>
    private ParkedWorker? WakeOneIfNeeded()
    {
        if (_queue.Count == 0 || _waking > 0 || _parked.Count == 0)
        {
            return null;
        }

        var w = _parked[^1];
        _parked.RemoveAt(_parked.Count - 1);
        _waking++;
        return w;
    }

    /// <summary>One worker thread's parking place: a monitor wait without a spin, and the connection handed to it.</summary>
    private sealed class ParkedWorker
    {
        private readonly object _monitor = new();
        private bool _woken;

        /// <summary>True when woken by <see cref="ActiveQueue.Wake"/> (shutdown) rather than for a queued connection.</summary>
        public bool Stopped { get; set; }

        public void Reset()
        {
            Stopped = false;
            Volatile.Write(ref _woken, false);
        }

        /// <summary>Blocks until <see cref="Wake"/>; false on timeout (a negative timeout: no limit).</summary>
        public bool Park(TimeSpan timeout)
        {
            var started = Stopwatch.GetTimestamp();
            lock (_monitor)
            {
                while (!_woken)
                {
                    var left = Timeout.InfiniteTimeSpan;
                    if (timeout >= TimeSpan.Zero)
                    {
                        left = timeout - Stopwatch.GetElapsedTime(started);
                        if (left <= TimeSpan.Zero)
                        {
                            return false;
                        }
                    }

                    if (!Monitor.Wait(_monitor, left))
                    {
                        return _woken;
                    }
                }
            }

            return true;
        }

        /// <summary>Called once per park, after the waker took this worker off the parked list.</summary>
        public void Wake()
        {
            lock (_monitor)
            {
                _woken = true;
                Monitor.Pulse(_monitor);
            }
        }
    }
}
