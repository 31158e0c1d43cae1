using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// The zero-byte receive an idle plain (non-TLS) connection waits with (see <see cref="ConnectionTransport.WaitForData"/>),
/// on pooled <see cref="SocketAsyncEventArgs"/> whose completion the socket engine reports on its own thread.
/// </summary>
/// <remarks>
/// The socket's awaitable <c>ReceiveAsync</c> has a window between starting the receive and registering the continuation:
/// bytes arriving in it (a client that sends its request right after connecting, a loaded core) complete the receive
/// first, and the runtime then runs the continuation on the .NET thread pool, which starts that pool's gate and worker
/// threads in a server that otherwise never needs them. Event args carry their handler from the start: no window. Pooled
/// rather than one per connection, so a busy or upgraded connection holds none.
/// </remarks>
internal static class IdleWait
{
    /// <summary>Free event args kept for reuse (about the idle connections of a busy moment); more are disposed.</summary>
    private const int MaxPooled = 1024;

    private static readonly Lock Gate = new();
    private static readonly Stack<SocketAsyncEventArgs> Pool = new();

    /// <summary>
    /// Starts <paramref name="connection"/>'s zero-byte receive. True when it completed at once (bytes, the end of the stream
    /// or an error are there: the next receive tells which); false when <see cref="ConnectionTransport.OnReadable"/> will be
    /// called as it completes.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was closed under the connection.</exception>
    public static bool Start(ConnectionTransport connection)
    {
        var args = Rent();
        args.UserToken = connection;
        bool pending;
        try
        {
            pending = connection.Socket.ReceiveAsync(args);
        }
        catch
        {
            args.Dispose();
            throw;
        }

        if (!pending)
        {
            Return(args);
        }

        return !pending;
    }

    private static SocketAsyncEventArgs Rent()
    {
        lock (Gate)
        {
            if (Pool.TryPop(out var pooled))
            {
                return pooled;
            }
        }

        // No execution context to capture and restore around every completion: the handler is the engine's own code.
        var args = new SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true);
        args.SetBuffer(Memory<byte>.Empty);
        args.Completed += static (_, completed) => OnCompleted(completed);
        return args;
    }

    private static void Return(SocketAsyncEventArgs args)
    {
        args.UserToken = null;
        lock (Gate)
        {
            if (Pool.Count < MaxPooled)
            {
                Pool.Push(args);
                return;
            }
        }

        args.Dispose();
    }

    private static void OnCompleted(SocketAsyncEventArgs args)
    {
        // Free for reuse once Completed is raised; whatever the receive reported, the next receive reports again.
        var connection = (ConnectionTransport)args.UserToken!;
        Return(args);
        connection.OnReadable();
    }
}
