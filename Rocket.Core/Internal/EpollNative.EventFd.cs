using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>eventfd(2): how the monitor's work wakes the thread that waits in epoll_wait(2) (<see cref="EpollLoop"/>).</summary>
internal static partial class EpollNative
{
    // sys/eventfd.h (Linux): EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.
    public const int EventFdCloexec = 0x80000;
    public const int EventFdNonBlock = 0x800;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadFd(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteFd(int fd, void* buffer, nint count);

    /// <summary>Adds one to the eventfd's counter (it becomes readable); never blocks: a full counter is readable already.</summary>
    public static unsafe void SignalEventFd(int fd)
    {
        ulong one = 1;
        _ = WriteFd(fd, &one, sizeof(ulong));
    }

    /// <summary>Reads the eventfd's counter back to zero (no longer readable); never blocks (EFD_NONBLOCK).</summary>
    public static unsafe void DrainEventFd(int fd)
    {
        ulong count;
        _ = ReadFd(fd, &count, sizeof(ulong));
    }
}
