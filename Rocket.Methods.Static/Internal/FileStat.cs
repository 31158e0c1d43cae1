using System.Runtime.InteropServices;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>The facts about a path the method serves from: its kind, size and modification time.</summary>
internal readonly record struct FileStat(FileKind Kind, long Length, long MtimeSeconds, int MtimeNanoseconds)
{
    private const int TypeMask = 0xF000; // S_IFMT
    private const int TypeRegular = 0x8000; // S_IFREG
    private const int TypeDirectory = 0x4000; // S_IFDIR

    private static readonly bool UseStatx = OperatingSystem.IsLinux();

    /// <summary>The modification time, second precision (what Last-Modified can carry).</summary>
    public DateTimeOffset LastModified => DateTimeOffset.FromUnixTimeSeconds(MtimeSeconds);

    /// <summary>stat(2) semantics (symlinks followed): one statx call on Linux, FileInfo elsewhere.</summary>
    public static unsafe FileStat Of(string path)
    {
        if (!UseStatx)
        {
            return Managed(path);
        }

        var buffer = stackalloc byte[NativeMethods.StatxBufferSize];
        if (NativeMethods.Statx(NativeMethods.AtFdCwd, path, NativeMethods.AtStatxSyncAsStat, NativeMethods.StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return new FileStat(errno == NativeMethods.EACCES ? FileKind.Forbidden : FileKind.Missing, 0, 0, 0);
        }

        var span = new ReadOnlySpan<byte>(buffer, NativeMethods.StatxBufferSize);
        var mode = MemoryMarshal.Read<ushort>(span[NativeMethods.StatxModeOffset..]);
        var size = MemoryMarshal.Read<long>(span[NativeMethods.StatxSizeOffset..]);
        var seconds = MemoryMarshal.Read<long>(span[NativeMethods.StatxMtimeOffset..]);
        var nanos = MemoryMarshal.Read<int>(span[(NativeMethods.StatxMtimeOffset + 8)..]);
        var kind = (mode & TypeMask) switch
        {
            TypeRegular => FileKind.Regular,
            TypeDirectory => FileKind.Directory,
            _ => FileKind.Special,
        };
        return new FileStat(kind, kind == FileKind.Regular ? size : 0, seconds, nanos);
    }

    private static FileStat Managed(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return FromTime(FileKind.Directory, 0, Directory.GetLastWriteTimeUtc(path));
            }

            var info = new FileInfo(path);
            return info.Exists ? FromTime(FileKind.Regular, info.Length, info.LastWriteTimeUtc) : new FileStat(FileKind.Missing, 0, 0, 0);
        }
        catch (UnauthorizedAccessException)
        {
            return new FileStat(FileKind.Forbidden, 0, 0, 0);
        }
        catch (IOException)
        {
            return new FileStat(FileKind.Missing, 0, 0, 0);
        }
    }

    private static FileStat FromTime(FileKind kind, long length, DateTime utc)
    {
        var ms = new DateTimeOffset(utc).ToUnixTimeMilliseconds();
        return new FileStat(kind, length, ms / 1000, (int)(ms % 1000) * 1_000_000);
    }
}
