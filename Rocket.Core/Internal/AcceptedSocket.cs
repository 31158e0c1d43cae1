using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// Accepts on Rocket's loop (accept4(2) on a listener made non-blocking by fcntl) and makes the accepted descriptor a
/// <see cref="Socket"/> the way the runtime's own Socket.Accept does: from the listener's family, type and protocol and the
/// peer address accept4 returned, with no query of the new descriptor. One system call per connection, as on the runtime's
/// engine; the public <c>new Socket(SafeSocketHandle)</c> costs seven more (getsockopt x4, getsockname x2, getpeername).
/// </summary>
/// <remarks>
/// The runtime keeps that route internal (Socket.CreateAcceptSocket); it is reached with <see cref="UnsafeAccessorAttribute"/>,
/// which binds by name at the first call. A runtime without it (MissingMethodException) falls back for good to the public
/// constructor, which is correct and only dearer; AcceptedSocketTests hold both routes to the same result.
/// </remarks>
internal static class AcceptedSocket
{
    private static readonly Logger Log = RocketLog.Part("Listener");
    private static int _accessorMissing;

    /// <summary>True once the runtime's internal accept route was found missing: every accept uses the public constructor.</summary>
    public static bool UsesPublicConstructor => Volatile.Read(ref _accessorMissing) != 0;

    /// <summary>
    /// accept4(2) on <paramref name="listener"/> (bound at <paramref name="boundEndPoint"/>): the connection, or null with
    /// <paramref name="errno"/> (EAGAIN when none is waiting). The new descriptor is close-on-exec and blocking.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The listener was closed.</exception>
    /// <exception cref="SocketException">The descriptor could not be made a Socket (it is closed then).</exception>
    public static unsafe Socket? Accept(Socket listener, EndPoint boundEndPoint, out int errno)
    {
        var peer = new SocketAddress(listener.AddressFamily);
        var length = peer.Size;
        int fd;
        fixed (byte* address = peer.Buffer.Span)
        {
            fd = EpollNative.Accept(listener.SafeHandle, address, ref length, EpollNative.SockCloexec);
        }

        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            peer.Size = length;
            return Wrap(listener, handle, boundEndPoint.Create(peer));
        }
        catch
        {
            handle.Dispose(); // the descriptor is ours until a Socket owns it
            throw;
        }
    }

    /// <summary>
    /// The accepted <paramref name="handle"/> as a connected Socket: through the runtime's internal accept route unless
    /// <paramref name="publicConstructor"/> or that route is missing, else with <c>new Socket(handle)</c> (which queries it).
    /// </summary>
    internal static Socket Wrap(Socket listener, SafeSocketHandle handle, EndPoint remote, bool publicConstructor = false)
    {
        if (!publicConstructor && !UsesPublicConstructor)
        {
            try
            {
                return CreateThroughRuntime(listener, handle, remote);
            }
            catch (MissingMethodException e)
            {
                if (Interlocked.Exchange(ref _accessorMissing, 1) == 0)
                {
                    Log.Info("This runtime has no Socket.CreateAcceptSocket ({0}); accepts on Rocket's loop use new Socket(SafeSocketHandle), 7 more system calls per connection.", e.Message);
                }
            }
        }

        return new Socket(handle);
    }

    // Not inlined: a binding failure must surface inside Wrap's try, at this call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Socket CreateThroughRuntime(Socket listener, SafeSocketHandle handle, EndPoint remote) => CreateAcceptSocket(listener, handle, remote);

    /// <summary>Socket.CreateAcceptSocket (System.Net.Sockets, internal): what Socket.Accept returns, from the listener's state.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "CreateAcceptSocket")]
    private static extern Socket CreateAcceptSocket(Socket listener, SafeSocketHandle handle, EndPoint? remote);
}
