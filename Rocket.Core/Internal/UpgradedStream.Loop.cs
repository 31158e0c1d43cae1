using System.Threading.Tasks.Sources;

namespace RocketOwin.Internal;

/// <summary>
/// Asynchronous reads of a plain upgraded connection through Rocket's epoll loop (<c>ROCKET_EPOLL=1</c>): the wait is the
/// connection's own registration (<see cref="ConnectionTransport.Epoll"/>, made once), the receive after it is non-blocking,
/// and the read completes through this stream itself (<see cref="IValueTaskSource{TResult}"/>).
/// </summary>
/// <remarks>
/// An idle WebSocket always has a read waiting. On the runtime's engine that wait holds the socket's asynchronous context,
/// its cached AwaitableSocketAsyncEventArgs, a pending receive operation and the read's state machine box; here a static
/// continuation stored in the registration, the buffer and the completion source in this stream: nothing allocated per read.
/// Completions follow the runtime's setting: with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (the rocket
/// command) the reader's continuation runs on the loop's thread, as it ran on the engine's; otherwise on the thread pool.
/// </remarks>
internal sealed partial class UpgradedStream : IValueTaskSource<int>
{
    private static readonly bool InlineCompletions = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
    private ManualResetValueTaskSourceCore<int> _read;
    private Memory<byte> _readBuffer;
    private CancellationTokenRegistration _readCancelled;

    private ValueTask<int> ReadThroughLoopAsync(EpollSocket epoll, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (epoll.MaybeReadable && TryReadNow(epoll, buffer.Span) is var n and >= 0)
                {
                    return ValueTask.FromResult(n);
                }

                // Set before the wait: the next edge may complete the read at once, on the loop's thread.
                _read.Reset();
                _read.RunContinuationsAsynchronously = !InlineCompletions;
                _readBuffer = buffer;
                if (cancellationToken.CanBeCanceled)
                {
                    // The cancellation wakes the wait, and the wake-up completes the read: one path, never two completions.
                    _readCancelled = cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).Interrupt(), epoll);
                }

                if (epoll.TryWaitAsync(static s => ((UpgradedStream)s!).OnReadable(), this))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        epoll.Interrupt(); // cancelled before the wait began: its callback found nothing to wake (a second wake-up is harmless)
                    }

                    return new ValueTask<int>(this, _read.Version);
                }

                EndRead(); // readable after all: read now
            }
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    /// <summary>The wait completed (an edge, a cancellation, or the registration closed): receive, or wait again if nothing came.</summary>
    private void OnReadable()
    {
        var epoll = _connection.Epoll!;
        int n;
        try
        {
            while (true)
            {
                _readCancelled.Token.ThrowIfCancellationRequested();
                if (epoll.MaybeReadable && TryReadNow(epoll, _readBuffer.Span) is var read and >= 0)
                {
                    n = read;
                    break;
                }

                if (epoll.TryWaitAsync(static s => ((UpgradedStream)s!).OnReadable(), this))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            EndRead();
            _read.SetException(e);
            return;
        }

        EndRead();
        _read.SetResult(n);
    }

    /// <summary>One non-blocking receive (through the read-ahead buffer for small reads); -1: nothing there, wait for the next edge.</summary>
    private int TryReadNow(EpollSocket epoll, Span<byte> buffer)
    {
        int n;
        if (buffer.Length < ReadAheadSize)
        {
            n = ReadAfterWait(buffer);
        }
        else if ((n = _connection.ReceiveNow(buffer)) > 0)
        {
            BytesIn += n;
        }

        // A closed registration reads as readable for good: nothing there then means the connection is going, not "wait".
        if (n < 0 && epoll.IsClosed)
        {
            throw new IOException("receive failed: the connection was closed");
        }

        return n;
    }

    /// <summary>Drops what the waiting read held; before its completion, whose continuation may start the next read.</summary>
    private void EndRead()
    {
        _readCancelled.Unregister(); // never waits: the callback only wakes the wait
        _readCancelled = default;
        _readBuffer = default;
    }

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _read.OnCompleted(continuation, state, token, flags);
}
