using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace RocketOwin.Internal;

/// <summary>
/// One plain socket registered with an <see cref="EpollLoop"/> (edge-triggered, once for its whole life) and its readiness,
/// tracked in user space: the loop counts edges, the owner notes a receive that left the socket empty. Readable means
/// "an edge came since the last receive that drained the socket", so a wait costs no system call and a receive is tried
/// only when one can succeed (no speculative receive that gets EAGAIN, no MSG_PEEK to arm an idle wait).
/// </summary>
/// <remarks>
/// One reader at a time: an idle connection's callback (<see cref="TryWait(Action)"/>) or an awaited receive's
/// (<see cref="WaitAsync"/>); and, at the same time, one writer (<see cref="WaitWritableAsync(int)"/>: a send that found the
/// buffer full, or a non-blocking connect), which has its own completion source (made at its first wait). A wait that finds the socket readable completes at once; readiness may then be stale (the
/// bytes of that edge were read by a receive that started before it), so the owner's first receive must not block.
/// </remarks>
internal sealed class EpollSocket : IValueTaskSource
{
    private const int NotWaiting = 0;
    private const int WaitingCallback = 1;
    private const int WaitingAwaiter = 2;
    private const uint ReadEvents = EpollNative.EpollIn | EpollNative.EpollRdHup | EpollNative.EpollHup | EpollNative.EpollErr;
    private const uint WriteEvents = EpollNative.EpollOut | EpollNative.EpollHup | EpollNative.EpollErr;

    private readonly EpollLoop _loop;
    private ManualResetValueTaskSourceCore<bool> _awaiter;
    private Action? _callback;
    private WriteWaiter? _writer;
    private Action? _observer;
    private int _edges;
    private int _drainedAt;
    private int _writeEdges;
    private int _hungUp;
    private int _waiting;
    private int _closed;

    public EpollSocket(EpollLoop loop, Socket socket)
    {
        _loop = loop;
        Socket = socket;
        Fd = (int)socket.SafeHandle.DangerousGetHandle();

        // Continuations run on the loop's thread, as the runtime's engine runs them with inline completions.
        _awaiter.RunContinuationsAsynchronously = false;
    }

    public Socket Socket { get; }

    public int Fd { get; }

    /// <summary>The loop's key for this registration (slot and generation); 0 until registered.</summary>
    public ulong Key { get; set; }

    /// <summary>True when a receive may find bytes (or the end of the stream).</summary>
    public bool MaybeReadable => Volatile.Read(ref _edges) != Volatile.Read(ref _drainedAt) || Volatile.Read(ref _hungUp) != 0 || Volatile.Read(ref _closed) != 0;

    /// <summary>True once the registration left the loop (the socket is closing): no edge will come any more.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The edge count to pass to <see cref="Drained"/>; read before the receive it belongs to.</summary>
    public int Edges => Volatile.Read(ref _edges);

    /// <summary>A receive that began at <paramref name="edgesBefore"/> returned fewer bytes than asked, or EAGAIN: nothing is left.</summary>
    public void Drained(int edgesBefore) => Volatile.Write(ref _drainedAt, edgesBefore);

    /// <summary>
    /// Notes a non-blocking receive on the socket that began at <paramref name="edgesBefore"/> and returned
    /// <paramref name="received"/> of <paramref name="asked"/> bytes with <paramref name="error"/>: EAGAIN, or a short read,
    /// emptied it (<see cref="Drained"/>), so the next receive waits for an edge instead of trying.
    /// </summary>
    public void NoteReceive(int edgesBefore, int received, int asked, SocketError error)
    {
        if (error == SocketError.WouldBlock || (error == SocketError.Success && received > 0 && received < asked))
        {
            Drained(edgesBefore);
        }
    }

    /// <summary>
    /// Idle wait: true when the socket may be readable already (the caller serves it, first receive non-blocking); false when
    /// <paramref name="onReadable"/> will be called on the loop's thread at the next edge.
    /// </summary>
    public bool TryWait(Action onReadable)
    {
        _callback = onReadable;
        Interlocked.Exchange(ref _waiting, WaitingCallback); // a full fence: the readiness check below must not be read before this store
        return MaybeReadable && Interlocked.CompareExchange(ref _waiting, NotWaiting, WaitingCallback) == WaitingCallback;
    }

    /// <summary>Completes (on the loop's thread) at the next edge, or at once when the socket may be readable already.</summary>
    public ValueTask WaitAsync()
    {
        if (MaybeReadable)
        {
            return ValueTask.CompletedTask;
        }

        _awaiter.Reset();
        Interlocked.Exchange(ref _waiting, WaitingAwaiter); // a full fence: the readiness check below must not be read before this store
        if (MaybeReadable && Interlocked.CompareExchange(ref _waiting, NotWaiting, WaitingAwaiter) == WaitingAwaiter)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(this, _awaiter.Version);
    }

    /// <summary>The write-edge count to pass to <see cref="WaitWritableAsync(int)"/>; read before the send it belongs to.</summary>
    public int WriteEdges => Volatile.Read(ref _writeEdges);

    /// <summary>
    /// <see cref="WaitAsync"/> with a continuation that needs no delegate of its own: false when the socket may be readable
    /// already; else true, and <paramref name="continuation"/>(<paramref name="state"/>) runs at the next edge (on the loop's
    /// thread), at <see cref="Interrupt"/> or at <see cref="Close"/>.
    /// </summary>
    public bool TryWaitAsync(Action<object?> continuation, object state)
    {
        var wait = WaitAsync();
        if (wait.IsCompleted)
        {
            return false;
        }

        _awaiter.OnCompleted(continuation, state, _awaiter.Version, ValueTaskSourceOnCompletedFlags.None);
        return true;
    }

    /// <summary>
    /// Completes (on the loop's thread) once a write-side edge came since the registration: a non-blocking connect finished
    /// (check SO_ERROR), or the registration was closed.
    /// </summary>
    public ValueTask WaitWritableAsync() => WaitWritableAsync(0);

    /// <summary>
    /// Completes (on the loop's thread) once a write-side edge (buffer space freed, the peer gone, an error) came after
    /// <paramref name="writeEdgesBefore"/> (<see cref="WriteEdges"/> read before the send that found the buffer full), or
    /// the registration was closed or <see cref="InterruptWriter"/> was called; at once when one came already. The caller then tries its
    /// send again: an edge may be spurious (it rides with a read edge), costing at most one more EAGAIN send.
    /// </summary>
    public ValueTask WaitWritableAsync(int writeEdgesBefore)
    {
        if (Volatile.Read(ref _writeEdges) != writeEdgesBefore || Volatile.Read(ref _closed) != 0)
        {
            return ValueTask.CompletedTask;
        }

        var writer = _writer ??= new WriteWaiter();
        writer.Core.Reset();
        Interlocked.Exchange(ref writer.Waiting, 1); // a full fence: the edge count below must not be read before this store
        if ((Volatile.Read(ref _writeEdges) != writeEdgesBefore || Volatile.Read(ref _closed) != 0)
            && Interlocked.CompareExchange(ref writer.Waiting, 0, 1) == 1)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(writer, writer.Core.Version);
    }

    /// <summary>
    /// Calls <paramref name="onEdge"/> once, on the loop's thread, at the first read edge after <paramref name="edgesBefore"/>
    /// (<see cref="Edges"/> read before the owner's last look), or at once when one came already; apart from the reader's
    /// wait (a request's disconnect watch stays armed while the connection waits idle). One observer at a time; never called
    /// after <see cref="Close"/>.
    /// </summary>
    public void ObserveNextEdge(int edgesBefore, Action onEdge)
    {
        Interlocked.Exchange(ref _observer, onEdge); // a full fence: the edge count below must not be read before this store
        if (Volatile.Read(ref _edges) != edgesBefore && Interlocked.CompareExchange(ref _observer, null, onEdge) == onEdge)
        {
            onEdge();
        }
    }

    /// <summary>Wakes an awaited <see cref="WaitWritableAsync(int)"/> now, without an edge (its owner's send was cancelled: it looks why).</summary>
    public void InterruptWriter() => WakeWriter();

    /// <summary>The loop saw an edge (<paramref name="events"/>: readable, writable, peer closed, or error): count it and wake the waiter.</summary>
    public void OnEdge(uint events)
    {
        if ((events & WriteEvents) != 0)
        {
            Interlocked.Increment(ref _writeEdges); // a full fence: a writer published before it is seen below
            WakeWriter();
        }

        // A write-only edge (buffer space freed) says nothing about bytes to read: no receive is tried for it.
        if ((events & ReadEvents) != 0)
        {
            // The peer's FIN (or an error) often comes in the same edge as its last bytes: a short receive of those bytes does
            // not mean "wait for the next edge" then, as none will come. From here on every wait finds the socket readable.
            if ((events & (EpollNative.EpollRdHup | EpollNative.EpollHup | EpollNative.EpollErr)) != 0)
            {
                Volatile.Write(ref _hungUp, 1);
            }

            Interlocked.Increment(ref _edges);
            Wake();
            if (Volatile.Read(ref _observer) is not null && Interlocked.Exchange(ref _observer, null) is { } observer)
            {
                observer();
            }
        }
    }

    /// <summary>Wakes an awaited <see cref="WaitAsync"/> now, without an edge (its owner's read was cancelled: it looks why).</summary>
    public void Interrupt()
    {
        if (Volatile.Read(ref _waiting) == WaitingAwaiter)
        {
            Wake();
        }
    }

    /// <summary>
    /// Leaves the loop and wakes an awaited receive, which then finds the socket closed. For a socket that stays open
    /// (a listener an inherited socket keeps for the next process, a connect the deadline cut): an epoll_ctl(2) DEL.
    /// </summary>
    public void Close() => Leave(socketClosing: false);

    /// <summary>
    /// <see cref="Close"/> for a socket its owner closes right after this (before anything else can use it): no epoll_ctl(2)
    /// DEL, as close(2) ends the registration (<see cref="EpollLoop.Unregister"/>). One system call less per connection.
    /// </summary>
    public void CloseWithSocket() => Leave(socketClosing: true);

    private void Leave(bool socketClosing)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _observer, null);

        _loop.Unregister(this, socketClosing);
        if (Volatile.Read(ref _waiting) == WaitingAwaiter)
        {
            Wake();
        }

        WakeWriter();
    }

    private void WakeWriter()
    {
        if (Volatile.Read(ref _writer) is { } writer && Interlocked.Exchange(ref writer.Waiting, 0) == 1)
        {
            writer.Core.SetResult(true);
        }
    }

    private void Wake()
    {
        switch (Interlocked.Exchange(ref _waiting, NotWaiting))
        {
            case WaitingCallback:
                var callback = _callback!;
                _callback = null;
                callback();
                break;
            case WaitingAwaiter:
                _awaiter.SetResult(true);
                break;
        }
    }

    void IValueTaskSource.GetResult(short token) => _awaiter.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _awaiter.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _awaiter.OnCompleted(continuation, state, token, flags);

    /// <summary>The writer's completion source, apart from the reader's: a send may wait while a receive waits (an upgraded stream).</summary>
    private sealed class WriteWaiter : IValueTaskSource
    {
        public ManualResetValueTaskSourceCore<bool> Core = new() { RunContinuationsAsynchronously = false };
        public int Waiting;

        void IValueTaskSource.GetResult(short token) => Core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => Core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => Core.OnCompleted(continuation, state, token, flags);
    }
}
