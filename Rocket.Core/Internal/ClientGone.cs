using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// The one test for "the other end is gone": a reset, a closed or disposed socket, a cancelled transfer. What it
/// matches is not a server fault: it is logged at Debug, never Error (STYLE.md), and the connection just ends.
/// </summary>
internal static class ClientGone
{
    public static bool Is(Exception e)
        => e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
           || (e is AggregateException { InnerExceptions: [var inner] } && Is(inner));
}
