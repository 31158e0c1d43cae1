using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// Rocket's ThreadPool: between minThreads and maxThreads dedicated threads taking connections from the
/// active queue. It grows when a connection is queued, no thread is idle, and the busy threads are blocked rather
/// than working (fewer of them runnable than there are processors: another thread would only add contention to a
/// CPU-bound pool); a thread above minThreads that stays idle for <see cref="ServerLimits.ThreadIdleTimeout"/> exits,
/// so the pool shrinks back slowly. A thread the OS refuses to start (a pids limit) is logged and the pool carries on.
/// </summary>
internal sealed class WorkerThreadPool : IDisposable
{
    private static readonly Logger Log = RocketLog.Part("ThreadPool");

    /// <summary>
    /// A connection queued this long while no thread is idle starts another thread. Enqueue-time growth alone misses
    /// connections queued while threads were idle but about to block; growing on every busy moment instead would
    /// start a thread per connection in a burst of quick (asynchronous) requests.
    /// </summary>
    private static readonly TimeSpan StarvationDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>After the OS refused a thread, no new one is tried for this long; the refusals are logged once per interval.</summary>
    private static readonly TimeSpan StartFailureBackoff = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan StartFailureLogInterval = TimeSpan.FromSeconds(10);
    private readonly ActiveQueue _queue;
    private readonly Action<ConnectionTransport> _serve;
    private readonly int _min;
    private readonly int _max;
    private readonly TimeSpan _idleTimeout;
    private readonly List<Thread> _threads = [];
    private int _count;
    private int _idle;
    private int _busy;
    private long _started;
    private volatile bool _stopping;
    private MonitorTimer? _starvationTimer;
    private long _retryStartsAt;
    private long _startFailures;
    private long _startFailureLoggedAt;
    private bool _workersBlocked;
    private long _sampledAt;
    private bool _lastSampleBlocked;

    public WorkerThreadPool(ActiveQueue queue, Action<ConnectionTransport> serve, int minThreads, int maxThreads, TimeSpan idleTimeout)
    {
        _queue = queue;
        _serve = serve;
        _min = minThreads;
        _max = maxThreads;
        _idleTimeout = idleTimeout;
        queue.Enqueued = OnEnqueued;
    }

    /// <summary>Worker threads alive now.</summary>
    public int ThreadCount => Volatile.Read(ref _count);

    /// <summary>Worker threads waiting for a connection.</summary>
    public int IdleCount => Volatile.Read(ref _idle);

    /// <summary>Worker threads serving a connection.</summary>
    public int BusyCount => Volatile.Read(ref _busy);

    /// <summary>Threads started since the pool began (growth events, including replacements).</summary>
    public long ThreadsStarted => Interlocked.Read(ref _started);

    public void Start()
    {
        for (var i = 0; i < _min; i++)
        {
            StartThread();
        }

        _starvationTimer = new MonitorTimer(CheckStarvation, StarvationDelay, StarvationDelay);
    }

    /// <summary>Signals every thread to finish its current connection and exit, then waits for them.</summary>
    public void Stop(TimeSpan wait)
    {
        _stopping = true;
        _starvationTimer?.Dispose();
        Thread[] threads;
        lock (_threads)
        {
            threads = [.. _threads];
        }

        _queue.Wake(threads.Length);
        var deadline = DateTime.UtcNow + wait;
        foreach (var t in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (!t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                Log.Warn("Worker thread {0} did not finish within the shutdown timeout.", t.Name);
            }
        }
    }

    private void OnEnqueued()
    {
        if (_stopping || Volatile.Read(ref _idle) > 0 || _queue.Count == 0)
        {
            return;
        }

        if (_max > 0 && Volatile.Read(ref _count) >= _max)
        {
            return;
        }

        if (System.Diagnostics.Stopwatch.GetTimestamp() < Volatile.Read(ref _retryStartsAt) || !WorkersBlocked())
        {
            return;
        }

        StartThread();
    }

    /// <summary>
    /// Whether the busy workers are waiting rather than running, as sampled by the starvation timer within the last few
    /// ticks (an older sample says nothing: wait for the next). The /proc scan never runs on the enqueueing thread, which
    /// with inline completions is the socket engine's own.
    /// </summary>
    private bool WorkersBlocked()
        => Volatile.Read(ref _workersBlocked)
           && System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _sampledAt)) < 4 * StarvationDelay;

    /// <summary>Samples the workers' scheduler states while the pool is saturated (every thread busy, connections waiting).</summary>
    private void SampleWorkerStates()
    {
        if (Volatile.Read(ref _idle) == 0 && _queue.Count > 0)
        {
            // Two samples in a row must agree: a garbage collection briefly suspends running workers, which then look blocked.
            var blocked = WorkerThreadStates.RunnableWorkers(Environment.ProcessorCount) < Environment.ProcessorCount;
            Volatile.Write(ref _workersBlocked, blocked && _lastSampleBlocked);
            _lastSampleBlocked = blocked;
            Volatile.Write(ref _sampledAt, System.Diagnostics.Stopwatch.GetTimestamp());
        }
    }

    public void Dispose() => _starvationTimer?.Dispose();

    private void CheckStarvation()
    {
        SampleWorkerStates();
        _queue.WakeIfWaiting(StarvationDelay / 10);
        if (_queue.OldestWait > StarvationDelay)
        {
            OnEnqueued();
        }
    }

    private void StartThread()
    {
        var n = Interlocked.Increment(ref _count);
        if (_max > 0 && n > _max)
        {
            Interlocked.Decrement(ref _count);
            return;
        }

        var thread = new Thread(Run) { IsBackground = true, Name = $"{WorkerThreadStates.NamePrefix} {Interlocked.Increment(ref _started)}" };
        lock (_threads)
        {
            _threads.Add(thread);
        }

        try
        {
            thread.Start();
        }
        catch (Exception e) when (e is OutOfMemoryException or ThreadStartException)
        {
            // pthread_create failed (EAGAIN: a pids limit, RLIMIT_NPROC, or memory). Serve on with the threads there are.
            lock (_threads)
            {
                _threads.Remove(thread);
            }

            Interlocked.Decrement(ref _count);
            OnStartFailed(e);
        }
    }

    private void OnStartFailed(Exception e)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        Volatile.Write(ref _retryStartsAt, now + (long)(StartFailureBackoff.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
        var failures = Interlocked.Increment(ref _startFailures);
        var loggedAt = Volatile.Read(ref _startFailureLoggedAt);
        if ((loggedAt == 0 || now - loggedAt > StartFailureLogInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency)
            && Interlocked.CompareExchange(ref _startFailureLoggedAt, now, loggedAt) == loggedAt)
        {
            Interlocked.Exchange(ref _startFailures, 0);
            Log.Error(
                "Could not start a worker thread ({0} refusal(s) in the last interval): {1} Serving on with {2} threads; no new thread is tried for {3} s.",
                failures, e.Message, ThreadCount, StartFailureBackoff.TotalSeconds);
        }
    }

    private void Run()
    {
        var exit = LoopExit.Failed;
        var stat = WorkerThreadStates.Register();
        try
        {
            exit = Loop();
        }
        catch (Exception e)
        {
            // Serve catches everything per connection; reaching here is a bug. Log it and replace the thread.
            Log.Fatal(e, "Worker thread {0} failed; starting a replacement.", Thread.CurrentThread.Name);
        }
        finally
        {
            WorkerThreadStates.Unregister(stat);
            lock (_threads)
            {
                _threads.Remove(Thread.CurrentThread);
            }

            if (exit != LoopExit.Retired)
            {
                Interlocked.Decrement(ref _count);
            }

            if (exit == LoopExit.Failed && !_stopping)
            {
                StartThread();
            }
        }
    }

    private enum LoopExit
    {
        Failed,
        Stopped,
        Retired,
    }

    private LoopExit Loop()
    {
        while (!_stopping)
        {
            Interlocked.Increment(ref _idle);
            var connection = _queue.Take(_idleTimeout, out var waited);
            Interlocked.Decrement(ref _idle);
            if (connection is null)
            {
                if (_stopping)
                {
                    return LoopExit.Stopped;
                }

                if (_queue.Count == 0 && TryRetire())
                {
                    return LoopExit.Retired;
                }

                continue;
            }

            Interlocked.Increment(ref _busy);
            if (waited > StarvationDelay)
            {
                // Connections are waiting for threads: grow again at once, so a backlog is covered in a cascade rather than a thread per tick.
                OnEnqueued();
            }

            try
            {
                _serve(connection);
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
            }
        }

        return LoopExit.Stopped;
    }

    /// <summary>Takes this thread out of the count if that leaves at least minThreads; the caller then exits.</summary>
    private bool TryRetire()
    {
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (count <= _min)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count - 1, count) == count)
            {
                return true;
            }
        }
    }
}
