using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>Connections with bytes to serve, waiting for a worker thread (Rocket's active queue).</summary>
/// <remarks>
/// A ring buffer under a lock rather than a ConcurrentQueue: the starvation timer peeks at the head 20 times a second
/// while the pool is saturated, and ConcurrentQueue.TryPeek stops the peeked segment's slots from being reused, so
/// every 32 enqueues after a peek allocated a new segment (~50 KB/s of garbage at constant load, an RSS creep until
/// the first collection). Queue&lt;T&gt; reuses its array; the lock is held for a few instructions.
/// </remarks>
internal sealed class ActiveQueue : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<(ConnectionTransport Connection, long QueuedAt)> _queue = new();
    private readonly SemaphoreSlim _available = new(0);

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
        lock (_gate)
        {
            _queue.Enqueue((connection, Stopwatch.GetTimestamp()));
        }

        _available.Release();
        Enqueued?.Invoke();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a connection; null on timeout or on a wake-up with nothing to take.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="waited">How long the connection waited in the queue.</param>
    public ConnectionTransport? Take(TimeSpan timeout, out TimeSpan waited)
    {
        waited = TimeSpan.Zero;
        if (!_available.Wait(timeout))
        {
            return null;
        }

        (ConnectionTransport Connection, long QueuedAt) entry;
        lock (_gate)
        {
            if (!_queue.TryDequeue(out entry))
            {
                return null;
            }
        }

        waited = Stopwatch.GetElapsedTime(entry.QueuedAt);
        return entry.Connection;
    }

    /// <summary>Wakes <paramref name="count"/> waiting threads (used at shutdown).</summary>
    public void Wake(int count)
    {
        if (count > 0)
        {
            _available.Release(count);
        }
    }

    public void Dispose() => _available.Dispose();
}
