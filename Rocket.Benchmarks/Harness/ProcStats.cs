using System.Globalization;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>Per-process figures read from /proc (the same numbers <c>ps</c> prints).</summary>
internal static class ProcStats
{
    /// <summary>Resident set size in KiB: VmRSS in /proc/PID/status, what <c>ps -o rss= -p PID</c> shows.</summary>
    public static long RssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    /// <summary>Thread count: the entries of /proc/PID/task (<c>ls /proc/PID/task | wc -l</c>).</summary>
    public static int Threads(int pid) => Directory.GetDirectories($"/proc/{pid}/task").Length;

    /// <summary>
    /// CPU time in clock ticks (USER_HZ) from /proc/PID/stat: utime + stime, plus the children's
    /// cutime + cstime when <paramref name="withReapedChildren"/> (children count once reaped).
    /// </summary>
    public static long CpuTicks(int pid, bool withReapedChildren = false)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return 0; // exited
        }
        // Fields after the parenthesised command name (which may itself contain spaces or ')').
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime = field 14, stime 15, cutime 16, cstime 17.
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        var ticks = Field(14) + Field(15);
        return withReapedChildren ? ticks + Field(16) + Field(17) : ticks;
    }
}
