using System.Runtime.InteropServices;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>The few libc calls the harness needs (Linux only, like the rest of it).</summary>
internal static partial class NativeMethods
{
    public const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;
    private const int RlimitNoFile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>Sends SIGTERM to one process we started; false when it is already gone.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    /// <summary>Stops one process we started (SIGSTOP) until <see cref="Resume"/>: it takes no CPU meanwhile.</summary>
    public static bool Pause(int pid) => Kill(pid, SigStop) == 0;

    /// <summary>Lets a process paused by <see cref="Pause"/> run again (SIGCONT).</summary>
    public static bool Resume(int pid) => Kill(pid, SigCont) == 0;

    /// <summary>
    /// Raises the soft RLIMIT_NOFILE to at least <paramref name="wanted"/> (never above the hard limit)
    /// and returns the soft limit now in force. Children inherit it.
    /// </summary>
    public static long RaiseOpenFileLimit(long wanted)
    {
        if (GetRLimit(RlimitNoFile, out var limit) != 0)
        {
            return -1;
        }
        if (limit.Current >= (ulong)wanted)
        {
            return (long)limit.Current;
        }
        var raised = limit with { Current = Math.Min((ulong)wanted, limit.Maximum) };
        return SetRLimit(RlimitNoFile, raised) == 0 ? (long)raised.Current : (long)limit.Current;
    }
}
