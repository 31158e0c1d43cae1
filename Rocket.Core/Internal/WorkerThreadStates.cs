using Microsoft.Win32.SafeHandles;

namespace RocketOwin.Internal;

/// <summary>
/// Which worker threads are running rather than waiting, read from each worker's /proc/thread-self/stat (Linux): the
/// scheduler's own view, so a machine loaded by other processes does not make CPU-bound workers look blocked.
/// Elsewhere: unknown (0).
/// </summary>
/// <remarks>
/// The pool samples 20 times a second while it is saturated, which under constant load is all the time, so a sample
/// must allocate nothing: each worker opens its own stat file once as it starts and keeps it open (procfs regenerates
/// the content on every read at offset 0), and a sample is one pread per worker into a stack buffer. Enumerating
/// /proc/self/task and File.ReadAllText per thread cost ~190 KB per sample: an RSS creep of ~3 B per request in the soak
/// benchmark until the first garbage collection.
/// </remarks>
internal static class WorkerThreadStates
{
    /// <summary>Worker thread names start with this; Linux keeps the first 15 bytes of a thread's name, which covers it.</summary>
    public const string NamePrefix = "Rocket worker";

    private static readonly Lock Gate = new();

    // Copy-on-write: replaced only as workers start and exit, read without a lock by every sample.
    private static SafeFileHandle[] _workers = [];

    /// <summary>Called by a worker thread as it starts: watches it from now on. Returns what <see cref="Unregister"/> takes back.</summary>
    public static SafeFileHandle? Register()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        SafeFileHandle stat;
        try
        {
            stat = File.OpenHandle("/proc/thread-self/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc (or a kernel before 3.17): the worker is never counted runnable, so the pool grows as it always did.
            return null;
        }

        lock (Gate)
        {
            _workers = [.. _workers, stat];
        }

        return stat;
    }

    /// <summary>Called by a worker thread as it exits.</summary>
    public static void Unregister(SafeFileHandle? stat)
    {
        if (stat is null)
        {
            return;
        }

        lock (Gate)
        {
            _workers = Array.FindAll(_workers, h => h != stat);
        }

        stat.Dispose();
    }

    /// <summary>Counts worker threads in state R (running or runnable), stopping at <paramref name="enough"/>.</summary>
    public static int RunnableWorkers(int enough)
    {
        Span<byte> buffer = stackalloc byte[128];
        var runnable = 0;
        foreach (var stat in Volatile.Read(ref _workers))
        {
            if (IsRunnable(stat, buffer) && ++runnable >= enough)
            {
                break;
            }
        }

        return runnable;
    }

    /// <summary>
    /// Parses "tid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'. 128 bytes hold
    /// the tid, the comm (at most 15 bytes) and the state; the fields after them are numbers.
    /// </summary>
    private static bool IsRunnable(SafeFileHandle stat, Span<byte> buffer)
    {
        int read;
        try
        {
            read = RandomAccess.Read(stat, buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return false; // the thread exited meanwhile
        }

        var close = buffer[..read].LastIndexOf((byte)')');
        return close > 0 && close + 2 < read && buffer[close + 2] == (byte)'R';
    }
}
