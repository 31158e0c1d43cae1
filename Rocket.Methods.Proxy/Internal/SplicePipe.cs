using System.Collections.Concurrent;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// A non-blocking pipe the splice relay moves body bytes through (socket -> pipe -> socket, no copy to user space).
/// Rented per large body and returned empty; a pipe that may still hold bytes is closed instead.
/// </summary>
internal sealed class SplicePipe
{
    /// <summary>The pipe's capacity asked for (F_SETPIPE_SZ): 1 MiB, the default pipe-max-size; fewer, larger splices.</summary>
    private const int WantedSize = 1024 * 1024;

    /// <summary>Idle pipes kept: more concurrent large bodies than this close their pipes after use.</summary>
    private const int MaxIdle = 64;

    private static readonly ConcurrentStack<SplicePipe> Idle = new();

    private SplicePipe(int readFd, int writeFd, int size)
    {
        ReadFd = readFd;
        WriteFd = writeFd;
        Size = size;
    }

    /// <summary>Pipes in the pool (each holds two descriptors).</summary>
    public static int IdleCount => Idle.Count;

    public int ReadFd { get; }

    public int WriteFd { get; }

    /// <summary>Bytes the pipe holds at most.</summary>
    public int Size { get; }

    /// <summary>An empty pipe from the pool or a new one; null when none can be made (fd limit).</summary>
    public static unsafe SplicePipe? Rent()
    {
        if (Idle.TryPop(out var pipe))
        {
            return pipe;
        }

        var fds = stackalloc int[2];
        if (NativeMethods.Pipe2(fds, NativeMethods.OCloexec | NativeMethods.ONonBlock) != 0)
        {
            return null;
        }

        // Above pipe-max-size (or the user's pipe page quota) the call fails and the pipe keeps its 64 KiB.
        _ = NativeMethods.Fcntl(fds[1], NativeMethods.FSetPipeSize, WantedSize);
        var size = NativeMethods.Fcntl(fds[1], NativeMethods.FGetPipeSize, 0);
        return new SplicePipe(fds[0], fds[1], size > 0 ? size : 64 * 1024);
    }

    /// <summary>Gives back a pipe known to be empty.</summary>
    public void Return()
    {
        if (Idle.Count >= MaxIdle)
        {
            Close();
            return;
        }

        Idle.Push(this);
    }

    /// <summary>Closes both ends (whatever the pipe still held is gone with it).</summary>
    public void Close()
    {
        _ = NativeMethods.Close(ReadFd); // close(2) frees the descriptor even when it reports an error
        _ = NativeMethods.Close(WriteFd);
    }
}
