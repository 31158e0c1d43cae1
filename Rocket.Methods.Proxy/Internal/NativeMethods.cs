using System.Runtime.InteropServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>The libc calls the splice relay needs (Linux): splice(2), pipe2(2), fcntl(2), read(2), close(2).</summary>
internal static partial class NativeMethods
{
    // linux/splice.h
    public const uint SpliceMove = 1;
    public const uint SpliceNonBlock = 2;

    // asm-generic/fcntl.h (x64 and arm64 alike)
    public const int OCloexec = 0x80000;
    public const int ONonBlock = 0x800;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int FSetPipeSize = 1031;
    public const int FGetPipeSize = 1032;

    // asm-generic/errno-base.h, errno.h
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static unsafe partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);
}
