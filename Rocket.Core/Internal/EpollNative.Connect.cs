using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>connect(2) for a socket whose completion Rocket's loop reports (the proxy's upstream connections).</summary>
internal static partial class EpollNative
{
    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static unsafe partial int Connect(SafeSocketHandle socket, byte* address, int length);

    /// <summary>
    /// connect(2) to <paramref name="endPoint"/> on a socket made non-blocking with <see cref="SetNonBlocking"/> (not
    /// Socket.Blocking and Socket.Connect: they give the socket the runtime's SocketAsyncContext): Success when connected at
    /// once, <see cref="SocketError.InProgress"/> when the loop's write edge will tell (then SO_ERROR says how it went), else
    /// the failure. The runtime's Socket object does not know it is connected (Socket.Connected stays false).
    /// </summary>
    public static unsafe SocketError Connect(SafeSocketHandle socket, IPEndPoint endPoint)
    {
        // The runtime's SocketAddress holds the platform's own sockaddr bytes (family, port, address, in network order).
        var address = endPoint.Serialize();
        fixed (byte* p = address.Buffer.Span)
        {
            while (true)
            {
                if (Connect(socket, p, address.Size) == 0)
                {
                    return SocketError.Success;
                }

                var error = Error();
                if (error != SocketError.Interrupted)
                {
                    return error;
                }
            }
        }
    }
}
