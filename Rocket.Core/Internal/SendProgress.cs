using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// What the monitor last saw the client acknowledge of a send in progress (the kernel's tcpi_bytes_acked), to apply the
/// <see cref="ServerLimits.IOTimeout"/> to sends of every kind: blocking, asynchronous and sendfile alike. Kept by whatever
/// serves the connection: the request's <see cref="HttpExchange"/>, or after a 101 the <see cref="UpgradedStream"/>.
/// </summary>
internal struct SendProgress
{
    private long _ackedSeen;
    private long _ackedSeenAt;

    /// <summary>
    /// True when a send is in progress on <paramref name="connection"/> and the client has acknowledged no byte of it for
    /// <paramref name="timeoutTicks"/>. Called by the monitor only; Linux only (elsewhere false).
    /// </summary>
    public bool Stalled(ConnectionTransport? connection, long now, long timeoutTicks)
    {
        if (connection is not { WriteDeadline: not 0 } || !OperatingSystem.IsLinux())
        {
            _ackedSeenAt = 0;
            return false;
        }

        var acked = BytesAcked(connection.Socket);
        if (acked < 0)
        {
            return false;
        }

        if (_ackedSeenAt == 0 || acked != _ackedSeen)
        {
            _ackedSeen = acked;
            _ackedSeenAt = now;
            return false;
        }

        return now - _ackedSeenAt > timeoutTicks;
    }

    /// <summary>tcp_info.tcpi_bytes_acked (Linux 4.1+, at byte 120 of struct tcp_info); -1 when unavailable.</summary>
    private static long BytesAcked(Socket socket)
    {
        const int IpProtoTcp = 6;
        const int TcpInfo = 11;
        const int BytesAckedOffset = 120;
        Span<byte> info = stackalloc byte[256];
        try
        {
            var n = socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
            return n >= BytesAckedOffset + sizeof(long) ? System.Runtime.InteropServices.MemoryMarshal.Read<long>(info[BytesAckedOffset..]) : -1;
        }
        catch (Exception e) when (e is PlatformNotSupportedException || ClientGone.Is(e))
        {
            return -1;
        }
    }
}
