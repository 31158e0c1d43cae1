using System.Runtime.InteropServices;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>The two libc calls the file system view needs: statx(2) (one syscall, arch-independent layout) and realpath(3).</summary>
internal static partial class NativeMethods
{
    public const int StatxBufferSize = 256;

    // statx flags and mask (linux/stat.h, linux/fcntl.h).
    public const int AtFdCwd = -100;
    public const int AtStatxSyncAsStat = 0;
    public const uint StatxBasicStats = 0x7ff;

    // Offsets into struct statx: its layout is fixed across architectures.
    public const int StatxModeOffset = 28;
    public const int StatxSizeOffset = 40;
    public const int StatxMtimeOffset = 112;

    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;
    public const int ENAMETOOLONG = 36;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint RealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    public static partial void Free(nint pointer);
}
