using System.Collections.Concurrent;
using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>Connections with bytes to serve, waiting for a worker thread (Rocket's active queue).</summary>
internal sealed class ActiveQueue : IDisposable
{
    private readonly ConcurrentQueue<(Connection Connection, long QueuedAt)> _queue = new();
    private readonly SemaphoreSlim _available = new(0);

    /// <summary>Called after every enqueue so the pool can grow while connections wait.</summary>
    public Action? Enqueued { get; set; }

    public int Count => _queue.Count;

    /// <summary>How long the connection at the head of the queue has waited; zero when the queue is empty.</summary>
    public TimeSpan OldestWait => _queue.TryPeek(out var head) ? Stopwatch.GetElapsedTime(head.QueuedAt) : TimeSpan.Zero;

    public void Enqueue(Connection connection)
    {
        _queue.Enqueue((connection, Stopwatch.GetTimestamp()));
        _available.Release();
        Enqueued?.Invoke();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a connection; null on timeout or on a wake-up with nothing to take.</summary>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="waited">How long the connection waited in the queue.</param>
    public Connection? Take(TimeSpan timeout, out TimeSpan waited)
    {
        waited = TimeSpan.Zero;
        if (!_available.Wait(timeout) || !_queue.TryDequeue(out var entry))
        {
            return null;
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
