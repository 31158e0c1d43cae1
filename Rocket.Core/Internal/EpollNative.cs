using System.Runtime.InteropServices;

namespace RocketOwin.Internal;

/// <summary>The libc calls of <see cref="EpollLoop"/> (Linux): epoll_create1(2), epoll_ctl(2), epoll_wait(2).</summary>
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

    // asm-generic/errno-base.h
    public const int EINTR = 4;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int Create(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static unsafe partial int Control(int epfd, int operation, int fd, Event* data);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int Wait(int epfd, Event* events, int maxEvents, int timeout);

    /// <summary>struct epoll_event: packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct Event
    {
        public uint Events;
        public ulong Data;
    }
}
