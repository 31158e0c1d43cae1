using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>
/// The libc calls of <see cref="EpollLoop"/> and of the sockets it serves (Linux): epoll_create1(2), epoll_ctl(2),
/// epoll_wait(2), accept4(2), recv(2), send(2), sendmsg(2), sendfile(2), fcntl(2).
/// </summary>
internal static partial class EpollNative
{
    // sys/epoll.h
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;
    public const int CtlAdd = 1;
    public const int CtlDel = 2;
    public const int EpollCloexec = 0x80000;

    // sys/socket.h (Linux)
    public const int SockCloexec = 0x80000;
    public const int MsgPeek = 0x2;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;

    // asm-generic/errno-base.h, errno.h
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int ENOTSOCK = 88;
    public const int ENETUNREACH = 101;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
    public const int EINPROGRESS = 115;

    /// <summary>
    /// The size of struct epoll_event on this process's architecture: packed on x86-64 (12 bytes, <see cref="Event"/>),
    /// naturally aligned elsewhere, e.g. arm64 (16 bytes, <see cref="AlignedEvent"/>).
    /// </summary>
    public static readonly bool Packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Bytes per struct epoll_event here (the buffer an epoll_wait(2) fills is an array of them).</summary>
    public static int EventSize => Packed ? sizeof(uint) + sizeof(ulong) : 16;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int Create(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int Control(int epfd, int operation, int fd, void* data);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int Wait(int epfd, void* events, int maxEvents, int timeout);

    /// <summary>accept4(2) with no peer address: the new descriptor, or -1 (errno in the last P/Invoke error).</summary>
    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(SafeSocketHandle socket, nint address, nint addressLength, int flags);

    /// <summary>
    /// accept4(2) that also returns the peer's address: the new descriptor, or -1 (errno in the last P/Invoke error);
    /// <paramref name="addressLength"/> is the buffer's size in, the address's length out.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static unsafe partial int Accept(SafeSocketHandle socket, byte* address, ref int addressLength, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Receive(SafeSocketHandle socket, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(SafeSocketHandle socket, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeSocketHandle socket, int command, int argument);

    [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
    private static unsafe partial nint SendFile(SafeSocketHandle socket, Microsoft.Win32.SafeHandles.SafeFileHandle file, long* offset, nint count);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static unsafe partial nint SendMessage(SafeSocketHandle socket, MessageHeader* message, int flags);

    /// <summary>epoll_ctl(2) with the event laid out for this architecture.</summary>
    public static unsafe int Control(int epfd, int operation, int fd, uint events, ulong data)
    {
        if (Packed)
        {
            var packed = new Event { Events = events, Data = data };
            return Control(epfd, operation, fd, &packed);
        }

        var aligned = new AlignedEvent { Events = events, Data = data };
        return Control(epfd, operation, fd, &aligned);
    }

    /// <summary>epoll_wait(2) into <paramref name="buffer"/> (<paramref name="maxEvents"/> x <see cref="EventSize"/> bytes).</summary>
    public static unsafe int Wait(int epfd, byte* buffer, int maxEvents, int timeout) => Wait(epfd, (void*)buffer, maxEvents, timeout);

    /// <summary>The <paramref name="index"/>th event epoll_wait(2) wrote into <paramref name="buffer"/>.</summary>
    public static unsafe (uint Events, ulong Data) EventAt(byte* buffer, int index)
    {
        if (Packed)
        {
            var packed = ((Event*)buffer)[index];
            return (packed.Events, packed.Data);
        }

        var aligned = ((AlignedEvent*)buffer)[index];
        return (aligned.Events, aligned.Data);
    }

    /// <summary>
    /// recv(2) that never blocks (MSG_DONTWAIT), whatever the descriptor's mode: bytes read (0 at the end of the stream), or
    /// -1 with <paramref name="error"/> (<see cref="SocketError.WouldBlock"/> when nothing is there). With
    /// <paramref name="peek"/> (MSG_PEEK) the bytes stay in the socket.
    /// </summary>
    public static unsafe int ReceiveNow(SafeSocketHandle socket, Span<byte> buffer, out SocketError error, bool peek = false)
    {
        fixed (byte* p = buffer)
        {
            var n = Receive(socket, p, buffer.Length, peek ? MsgDontWait | MsgPeek : MsgDontWait);
            error = n < 0 ? Error() : SocketError.Success;
            return (int)n;
        }
    }

    /// <summary>send(2) that never blocks and never raises SIGPIPE: bytes sent, or -1 with <paramref name="error"/>.</summary>
    public static unsafe int SendNow(SafeSocketHandle socket, ReadOnlySpan<byte> data, out SocketError error)
    {
        fixed (byte* p = data)
        {
            var n = Send(socket, p, data.Length, MsgDontWait | MsgNoSignal);
            error = n < 0 ? Error() : SocketError.Success;
            return (int)n;
        }
    }

    /// <summary>
    /// sendmsg(2) of two buffers (one system call for a head and a body) that never blocks and never raises SIGPIPE: bytes
    /// sent, or -1 with <paramref name="error"/>.
    /// </summary>
    public static unsafe int SendNow(SafeSocketHandle socket, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, out SocketError error)
    {
        fixed (byte* a = first)
        fixed (byte* b = second)
        {
            var vectors = stackalloc IoVector[2];
            vectors[0] = new IoVector { Base = a, Length = first.Length };
            vectors[1] = new IoVector { Base = b, Length = second.Length };
            var message = new MessageHeader { Vectors = vectors, VectorCount = 2 };
            var n = SendMessage(socket, &message, MsgDontWait | MsgNoSignal);
            error = n < 0 ? Error() : SocketError.Success;
            return (int)n;
        }
    }

    /// <summary>
    /// Sets or clears O_NONBLOCK with fcntl(2). Not <c>Socket.Blocking = false</c>: that gives the socket the runtime's
    /// SocketAsyncContext (and starts the runtime's socket engine threads), and after it every blocking call of the socket
    /// is emulated on that engine. False when the call failed (the descriptor closed).
    /// </summary>
    public static bool SetNonBlocking(SafeSocketHandle socket, bool nonBlocking)
    {
        const int GetFlags = 3, SetFlags = 4, NonBlock = 0x800; // F_GETFL, F_SETFL, O_NONBLOCK (x86-64 and arm64)
        var flags = Fcntl(socket, GetFlags, 0);
        return flags >= 0 && Fcntl(socket, SetFlags, nonBlocking ? flags | NonBlock : flags & ~NonBlock) == 0;
    }

    /// <summary>
    /// sendfile(2) from <paramref name="file"/> at <paramref name="offset"/> (advanced by what was sent) to a non-blocking
    /// socket: bytes sent (0 when the file ended), or -1 with <paramref name="error"/>.
    /// </summary>
    public static unsafe long SendFile(SafeSocketHandle socket, Microsoft.Win32.SafeHandles.SafeFileHandle file, ref long offset, long count, out SocketError error)
    {
        fixed (long* at = &offset)
        {
            var n = SendFile(socket, file, at, (nint)Math.Min(count, 1L << 30));
            error = n < 0 ? Error() : SocketError.Success;
            return n;
        }
    }

    private static SocketError Error() => ToSocketError(Marshal.GetLastPInvokeError());

    /// <summary>
    /// An errno (Linux numbering: a failed call's, or a connect's SO_ERROR) as the portable code SocketException takes, as
    /// the runtime maps them for its own calls; 0 is Success.
    /// </summary>
    public static SocketError ToSocketError(int errno)
    {
        return errno switch
        {
            0 => SocketError.Success,
            EAGAIN => SocketError.WouldBlock,
            EINTR => SocketError.Interrupted,
            EBADF => SocketError.OperationAborted, // closed under us
            EPIPE => SocketError.Shutdown,
            ECONNRESET => SocketError.ConnectionReset,
            ENOTCONN => SocketError.NotConnected,
            ETIMEDOUT => SocketError.TimedOut,
            EINPROGRESS => SocketError.InProgress,
            ECONNREFUSED => SocketError.ConnectionRefused,
            EHOSTUNREACH => SocketError.HostUnreachable,
            ENETUNREACH => SocketError.NetworkUnreachable,
            ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
            _ => SocketError.SocketError,
        };
    }

    /// <summary>struct epoll_event on x86-64: packed (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct Event
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>struct epoll_event on every other 64-bit Linux (arm64 among them): naturally aligned (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AlignedEvent
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>struct msghdr (the same on x86-64 and arm64 Linux); only the buffers are set.</summary>
    private unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nint VectorCount;
        public void* Control;
        public nint ControlLength;
        public int Flags;
    }

    private unsafe struct IoVector
    {
        public byte* Base;
        public nint Length;
    }
}
