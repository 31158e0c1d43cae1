using MonitorTimer = RocketOwin.Internal.MonitorTimer;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// The open WebSockets of one worker, told to go away (close 1001) when the server stops: one registration on the
/// server's stopping token for all of them instead of one per socket (a registration is ~80 B held for as long as the
/// socket stays open; the list costs each session two references).
/// </summary>
internal sealed class WebSocketSessionList : IDisposable
{
    private static readonly TimeSpan KeepAliveTick = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private WebSocketSession? _head;
    private MonitorTimer? _keepAlive;
    private CancellationTokenRegistration _registration;
    private int _registered;
    private bool _stopping;

    /// <summary>Adds an open session; one added after the server began to stop is told to go away at once.</summary>
    public void Add(WebSocketSession session, CancellationToken stopping)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            // Outside the lock: on a token already cancelled the callback runs here, and takes the lock itself.
            _registration = stopping.UnsafeRegister(static s => ((WebSocketSessionList)s!).StopAll(), this);
        }

        bool stoppingNow;
        lock (_lock)
        {
            // Made with the first session that keeps alive, so a server whose sockets send no pongs has no tick.
            if (session.KeepsAlive && _keepAlive is null)
            {
                _keepAlive = new MonitorTimer(SendKeepAlives, KeepAliveTick, KeepAliveTick);
            }

            stoppingNow = _stopping;
            if (!stoppingNow)
            {
                session.NextInList = _head;
                if (_head is not null)
                {
                    _head.PreviousInList = session;
                }

                _head = session;
            }
        }

        if (stoppingNow)
        {
            session.GoAway();
        }
    }

    /// <summary>Removes a session whose socket has ended (a session never added is ignored).</summary>
    public void Remove(WebSocketSession session)
    {
        lock (_lock)
        {
            if (session.PreviousInList is { } previous)
            {
                previous.NextInList = session.NextInList;
            }
            else if (ReferenceEquals(_head, session))
            {
                _head = session.NextInList;
            }
            else
            {
                return;
            }

            if (session.NextInList is { } next)
            {
                next.PreviousInList = session.PreviousInList;
            }

            session.PreviousInList = session.NextInList = null;
        }
    }

    /// <summary>The sessions open now (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                var count = 0;
                for (var s = _head; s is not null; s = s.NextInList)
                {
                    count++;
                }

                return count;
            }
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        lock (_lock)
        {
            _keepAlive?.Dispose();
        }
    }

    /// <summary>
    /// Under the lock, so that a session never gets a pong after its <see cref="Remove"/> (it then closes the socket);
    /// each send is one non-blocking send(2) or nothing, so the walk is short even with many thousands of sockets.
    /// </summary>
    private void SendKeepAlives()
    {
        var now = Environment.TickCount;
        lock (_lock)
        {
            for (var s = _head; s is not null; s = s.NextInList)
            {
                s.SendKeepAlive(now);
            }
        }
    }

    private void StopAll()
    {
        List<WebSocketSession> open = [];
        lock (_lock)
        {
            _stopping = true;
            for (var s = _head; s is not null; s = s.NextInList)
            {
                open.Add(s);
            }
        }

        // Outside the lock: a close frame may complete inline and end its session, which removes itself.
        foreach (var session in open)
        {
            session.GoAway();
        }
    }
}
