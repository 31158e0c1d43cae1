using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// A worker's blocking receive and send on a plain socket of Rocket's loop, as recv(2)/send(2) on the descriptor, which stays
/// in blocking mode for them (accept4 without SOCK_NONBLOCK; only sendfile(2) clears it, for its own call). The kernel does
/// the wait, bounded by SO_RCVTIMEO/SO_SNDTIMEO (the I/O timeout the listener sets): one system call per receive or send, as
/// the runtime's Socket.Receive/Send make on a blocking descriptor, but without the SocketAsyncContext (152 B per socket) that
/// those make for every socket they are called on. Shutdown (a cut transfer) and Socket.Dispose (Stop, a reset: the runtime
/// disconnects a descriptor still in use by a call) wake a blocked call, as they wake the runtime's.
/// </summary>
internal static partial class EpollNative
{
    /// <summary>
    /// recv(2) that waits as the descriptor does: bytes read (0 at the end of the stream), or -1 with <paramref name="error"/>
    /// (<see cref="SocketError.WouldBlock"/>: SO_RCVTIMEO passed with nothing received). Interrupted calls are retried.
    /// </summary>
    public static unsafe int ReceiveBlocking(SafeSocketHandle socket, Span<byte> buffer, out SocketError error)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Receive(socket, p, buffer.Length, 0);
                error = n < 0 ? Error() : SocketError.Success;
                if (error != SocketError.Interrupted)
                {
                    return (int)n;
                }
            }
        }
    }

    /// <summary>
    /// send(2) that waits as the descriptor does and never raises SIGPIPE: bytes sent (fewer than given when SO_SNDTIMEO
    /// passed part-way), or -1 with <paramref name="error"/> (<see cref="SocketError.WouldBlock"/>: SO_SNDTIMEO passed with
    /// nothing sent). Interrupted calls are retried.
    /// </summary>
    public static unsafe int SendBlocking(SafeSocketHandle socket, ReadOnlySpan<byte> data, out SocketError error)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                var n = Send(socket, p, data.Length, MsgNoSignal);
                error = n < 0 ? Error() : SocketError.Success;
                if (error != SocketError.Interrupted)
                {
                    return (int)n;
                }
            }
        }
    }
}
