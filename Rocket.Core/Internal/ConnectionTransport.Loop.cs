using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace RocketOwin.Internal;

/// <summary>
/// A plain connection's I/O on Rocket's epoll loop (<see cref="EpollLoop"/>, ROCKET_EPOLL=1): non-blocking calls whatever the
/// descriptor's mode (it stays blocking for the workers' receives and sends, which are recv(2)/send(2) on it: no engine and
/// no runtime SocketAsyncContext), and when one would block a wait for the loop's next edge. The runtime's socket engine
/// never registers or waits for the socket (its `.NET Sockets` thread still exists: constructing any Socket starts it on .NET 10).
/// </summary>
internal sealed partial class ConnectionTransport
{
    /// <summary>
    /// <see cref="ReceiveAsync"/> on Rocket's loop: a receive only when the loop says bytes may be there, else a wait for the
    /// next read edge, so the runtime's socket engine never takes the socket. A cancelled token wakes the wait.
    /// </summary>
    private async ValueTask<int> ReceiveOnLoopAsync(EpollSocket epoll, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (epoll.MaybeReadable)
            {
                var edges = epoll.Edges;
                var n = EpollNative.ReceiveNow(Socket.SafeHandle, buffer.Span, out var error);
                epoll.NoteReceive(edges, n, buffer.Length, error);
                if (error == SocketError.Success)
                {
                    return n;
                }

                if (error is not (SocketError.WouldBlock or SocketError.Interrupted))
                {
                    throw new IOException($"receive failed: {error}", new SocketException((int)error));
                }
            }

            await OnLoopAsync(epoll.WaitAsync(), epoll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Awaits a wait on the loop, woken early by <paramref name="cancellationToken"/>. The wait completes on the loop's
    /// thread; unless the worker never blocks, the caller goes on from the thread pool (as the runtime's engine dispatches
    /// its completions), so a handler cannot hold the loop.
    /// </summary>
    private async ValueTask OnLoopAsync(ValueTask wait, EpollSocket epoll, CancellationToken cancellationToken, bool writer = false)
    {
        if (wait.IsCompleted)
        {
            await wait.ConfigureAwait(false);
            return;
        }

        // Only the side that waits: an upgraded stream may read while this sends.
        using (!cancellationToken.CanBeCanceled ? default
            : writer ? cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).InterruptWriter(), epoll)
            : cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).Interrupt(), epoll))
        {
            await wait.ConfigureAwait(false);
        }

        if (!Server.Worker.NeverBlocks)
        {
            await Task.Yield();
        }
    }

    /// <summary>
    /// Sends every byte of <paramref name="first"/> then <paramref name="second"/> on Rocket's loop: non-blocking sends
    /// (head and body gathered in one sendmsg(2)), and when the socket buffer is full a wait for the write edge that frees it.
    /// </summary>
    private async ValueTask SendOnLoopAsync(EpollSocket epoll, ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, CancellationToken cancellationToken)
    {
        while (!first.IsEmpty || !second.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var edges = epoll.WriteEdges;
            SocketError error;
            var n = second.IsEmpty ? EpollNative.SendNow(Socket.SafeHandle, first.Span, out error)
                : first.IsEmpty ? EpollNative.SendNow(Socket.SafeHandle, second.Span, out error)
                : EpollNative.SendNow(Socket.SafeHandle, first.Span, second.Span, out error);
            if (error == SocketError.Success)
            {
                var fromFirst = Math.Min(n, first.Length);
                first = first[fromFirst..];
                second = second[(n - fromFirst)..];
                continue;
            }

            if (error == SocketError.WouldBlock)
            {
                await OnLoopAsync(epoll.WaitWritableAsync(edges), epoll, cancellationToken, writer: true).ConfigureAwait(false);
            }
            else if (error != SocketError.Interrupted)
            {
                throw new IOException($"send failed: {error}", new SocketException((int)error));
            }
        }
    }

    /// <summary>
    /// <see cref="Send"/> on Rocket's loop: blocking send(2) on the descriptor (blocking for the workers; EpollNative.Blocking.cs)
    /// until every byte is out, as the runtime's Socket.Send on a blocking socket does, without its SocketAsyncContext. The
    /// kernel bounds each call by SO_SNDTIMEO; as the runtime's, the whole send is bounded by the I/O timeout too (a client
    /// that takes a little every few seconds), and the monitor's MinResponseDataRate cut (a shutdown) ends it at once.
    /// </summary>
    private void SendBlockingOnLoop(ReadOnlySpan<byte> data)
    {
        long start = 0;
        while (!data.IsEmpty)
        {
            var n = EpollNative.SendBlocking(Socket.SafeHandle, data, out var error);
            if (error != SocketError.Success)
            {
                error = error == SocketError.WouldBlock ? SocketError.TimedOut : error; // SO_SNDTIMEO passed
                throw new IOException($"send failed: {error}", new SocketException((int)error));
            }

            data = data[n..];
            if (data.IsEmpty)
            {
                return;
            }

            start = start == 0 ? Environment.TickCount64 : start;
            if (Environment.TickCount64 - start >= Server.Limits.IOTimeout.TotalMilliseconds)
            {
                throw new IOException($"send failed: {SocketError.TimedOut}", new SocketException((int)SocketError.TimedOut));
            }
        }
    }

    /// <summary>
    /// A request's disconnect watch (RequestContext) on the loop instead of the runtime's peek receive: calls
    /// <paramref name="onGone"/> (on the loop's thread) when the client closes or resets before it sends more bytes; bytes
    /// (a pipelined request) end the watch. False when the connection is not on the loop.
    /// </summary>
    public bool TryWatchDisconnectOnLoop(Action onGone)
    {
        if (Tls is not null || _epoll is not { } epoll)
        {
            return false;
        }

        Peek();
        return true;

        void Peek()
        {
            var edges = epoll.Edges;
            Span<byte> one = stackalloc byte[1];
            int n;
            SocketError error;
            try
            {
                n = EpollNative.ReceiveNow(Socket.SafeHandle, one, out error, peek: true);
            }
            catch (ObjectDisposedException)
            {
                return; // closed: the request is over
            }

            if (error == SocketError.WouldBlock)
            {
                epoll.ObserveNextEdge(edges, Peek);
            }
            else if (n == 0 || error != SocketError.Success)
            {
                onGone(); // the client's FIN (RFC 9112 §9.6: it will read no response), or a reset
            }
        }
    }

    /// <summary>
    /// sendfile(2) of <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> on the loop
    /// (FileSender's plain path). sendfile has no MSG_DONTWAIT: the descriptor is non-blocking for the call (two fcntl(2)).
    /// False when the connection is not on the loop (the caller uses the runtime's engine).
    /// </summary>
    /// <exception cref="IOException">The send failed, or the file ended early (changed while sending).</exception>
    public async ValueTask<bool> TrySendFileOnLoopAsync(SafeFileHandle file, long offset, long count, CancellationToken cancellationToken)
    {
        if (Tls is not null || _epoll is not { } epoll)
        {
            return false;
        }

        BeginWrite(count);
        EpollNative.SetNonBlocking(Socket.SafeHandle, true);
        try
        {
            while (count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var edges = epoll.WriteEdges;
                var n = EpollNative.SendFile(Socket.SafeHandle, file, ref offset, count, out var error);
                if (error == SocketError.Success)
                {
                    if (n == 0)
                    {
                        throw new IOException("The file was truncated while being sent.");
                    }

                    count -= n;
                }
                else if (error == SocketError.WouldBlock)
                {
                    await OnLoopAsync(epoll.WaitWritableAsync(edges), epoll, cancellationToken, writer: true).ConfigureAwait(false);
                }
                else if (error != SocketError.Interrupted)
                {
                    throw new IOException($"sendfile failed: {error}", new SocketException((int)error));
                }
            }
        }
        finally
        {
            EndWrite();
            try
            {
                EpollNative.SetNonBlocking(Socket.SafeHandle, false); // the workers' head receives block
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile (Stop, a cut transfer): the failure is already the caller's.
            }
        }

        return true;
    }
}
