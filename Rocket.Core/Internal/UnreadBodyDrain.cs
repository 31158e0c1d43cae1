using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// Receives and discards the rest of a request body the handler left unread, on a plain (non-TLS) socket, without a
/// thread: each receive is a <see cref="SocketAsyncEventArgs"/> whose completion continues the drain where it completes
/// (the socket engine's thread), and the end is reported by a callback, never by a task someone awaits.
/// </summary>
/// <remarks>
/// The socket's awaitable receive has a window between starting and registering the continuation: a body whose rest
/// arrives at once (the usual case: the client sends it right after reading the answer) completes first, and the runtime
/// then runs the continuation on the .NET thread pool, starting its gate and worker threads in a server that otherwise
/// never needs them (the reason <see cref="IdleWait"/> uses event args too). The drain's deadline is a one-shot
/// <see cref="MonitorTimer"/> that cuts the receive side; once it has fired the drain ends false whatever arrives.
/// </remarks>
internal sealed class UnreadBodyDrain : IDisposable
{
    private const int Running = 0;
    private const int TimedOut = 1;
    private const int Ended = 2;

    private readonly HttpExchange _exchange;
    private readonly Action<HttpExchange, bool, Exception?> _onEnd;
    private readonly SocketAsyncEventArgs _args;
    private readonly MonitorTimer _deadline;
    private long _left;
    private int _state;

    private UnreadBodyDrain(HttpExchange exchange, long limit, TimeSpan timeout, Action<HttpExchange, bool, Exception?> onEnd)
    {
        _exchange = exchange;
        _left = limit;
        _onEnd = onEnd;
        _args = new SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true) { UserToken = this };
        _args.Completed += static (_, args) => ((UnreadBodyDrain)args.UserToken!).OnReceived();
        _deadline = new MonitorTimer(Expire);
        _deadline.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Drains at most <paramref name="limit"/> more body bytes within <paramref name="timeout"/>. The result when that is
    /// decided at once (true: the body ended within both; a failure is thrown); else null, and <paramref name="onEnd"/> is
    /// called once with the result (and the failure that ended the drain, if any) on the thread where the last receive completed.
    /// </summary>
    public static bool? Start(HttpExchange exchange, long limit, TimeSpan timeout, Action<HttpExchange, bool, Exception?> onEnd)
    {
        var drain = new UnreadBodyDrain(exchange, limit, timeout, onEnd);
        if (drain.Step(out var failure) is not { } drained)
        {
            return null;
        }

        drain.End(ref drained);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return drained;
    }

    /// <summary>Discards and receives until the drain is decided (true/false, with the failure if one decided it) or a receive is pending (null).</summary>
    private bool? Step(out Exception? failure)
    {
        failure = null;
        try
        {
            while (true)
            {
                if (_exchange.Body.DrainBuffered(ref _left) is { } done)
                {
                    return done;
                }

                _args.SetBuffer(_exchange.BeginBodyReceive());
                if (_exchange.Connection.Socket.ReceiveAsync(_args))
                {
                    return null; // OnReceived goes on
                }

                _exchange.EndBodyReceive(_args.SocketError, _args.BytesTransferred);
            }
        }
        catch (Exception e)
        {
            failure = e;
            return false;
        }
    }

    private void OnReceived()
    {
        bool? drained;
        Exception? failure = null;
        try
        {
            _exchange.EndBodyReceive(_args.SocketError, _args.BytesTransferred);
            drained = Step(out failure);
        }
        catch (Exception e)
        {
            failure = e;
            drained = false;
        }

        if (drained is { } result)
        {
            End(ref result);
            _onEnd(_exchange, result, failure);
        }
    }

    private void Expire()
    {
        // Runs on the monitor's thread: only claim the drain and cut the receive; the pending receive then ends it.
        if (Interlocked.CompareExchange(ref _state, TimedOut, Running) == Running)
        {
            _exchange.Connection.CutStalledTransfer(receiveOnly: true);
        }
    }

    /// <summary>Releases the event args and disarms the deadline; every drain does it once, as it ends.</summary>
    public void Dispose()
    {
        _deadline.Dispose();
        _args.Dispose();
    }

    private void End(ref bool drained)
    {
        Dispose();
        if (Interlocked.Exchange(ref _state, Ended) == TimedOut)
        {
            drained = false;
        }
    }
}
