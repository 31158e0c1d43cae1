using System.Collections.Concurrent;

namespace RocketOwin.Internal;

/// <summary>Connections with bytes to serve, waiting for a worker thread (Rocket's active queue).</summary>
internal sealed class ActiveQueue : IDisposable
{
    private readonly ConcurrentQueue<Connection> _queue = new();
    private readonly SemaphoreSlim _available = new(0);

    /// <summary>Called after every enqueue so the pool can grow while connections wait.</summary>
    public Action? Enqueued { get; set; }

    public int Count => _queue.Count;

    public void Enqueue(Connection connection)
    {
        _queue.Enqueue(connection);
        _available.Release();
        Enqueued?.Invoke();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a connection; null on timeout or on a wake-up with nothing to take.</summary>
    public Connection? Take(TimeSpan timeout)
    {
        if (!_available.Wait(timeout))
        {
            return null;
        }

        return _queue.TryDequeue(out var c) ? c : null;
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

    public bool TryTake(out Connection? connection) => _queue.TryDequeue(out connection);
}
