namespace RocketOwin.Internal;

/// <summary>Every open connection, in slots reused as connections come and go, so the monitor can sweep them and Stop can close them without allocating per request.</summary>
internal sealed class ConnectionTable
{
    private readonly Lock _lock = new();
    private readonly Stack<int> _free = new();
    private ConnectionTransport?[] _slots = new ConnectionTransport?[256];
    private int _used;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(ConnectionTransport connection)
    {
        lock (_lock)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_used == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                }

                slot = _used++;
            }

            _slots[slot] = connection;
            connection.Slot = slot;
            _count++;
        }
    }

    public void Remove(ConnectionTransport connection)
    {
        lock (_lock)
        {
            var slot = connection.Slot;
            if (slot < 0 || !ReferenceEquals(_slots[slot], connection))
            {
                return;
            }

            _slots[slot] = null;
            connection.Slot = -1;
            _free.Push(slot);
            _count--;
        }
    }

    /// <summary>Calls <paramref name="visit"/> for each connection; the snapshot is taken under the lock, the visits outside it.</summary>
    public void ForEach<TState>(TState state, Action<ConnectionTransport, TState> visit)
    {
        ConnectionTransport?[] slots;
        int used;
        lock (_lock)
        {
            slots = _slots;
            used = _used;
        }

        for (var i = 0; i < used; i++)
        {
            var c = Volatile.Read(ref slots[i]);
            if (c is not null)
            {
                visit(c, state);
            }
        }
    }
}
