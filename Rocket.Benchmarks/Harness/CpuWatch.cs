using System.Globalization;

namespace RocketOwin.Benchmarks.Harness;

/// <summary>
/// How much CPU something other than the benchmark used during a run, from /proc/stat and /proc/PID/stat.
/// "Other" is the busy time of the whole machine (user, nice, system, irq, softirq) minus the time of
/// our own processes (the servers, this driver and its reaped children such as wrk). A task's utime+stime
/// include the softirq work (loopback TCP) done in its context, which /proc/stat books as softirq, so
/// softirq must be on the machine's side too. Steal is the hypervisor taking CPU away.
/// Both are given in percent of one core.
/// </summary>
internal sealed class CpuWatch
{
    private readonly int[] _ourPids;
    private readonly Sample _start;

    private CpuWatch(int[] ourPids)
    {
        _ourPids = ourPids;
        _start = Take();
    }

    /// <summary>Starts watching; <paramref name="serverPids"/> are the long-lived children (servers).</summary>
    public static CpuWatch Start(params int[] serverPids) => new(serverPids);

    public (double OtherPercent, double StealPercent) Stop()
    {
        var end = Take();
        var elapsedPerCore = (double)(end.Total - _start.Total) / Environment.ProcessorCount;
        if (elapsedPerCore <= 0)
        {
            return (0, 0);
        }
        var other = (end.Busy - _start.Busy) - (end.Ours - _start.Ours);
        return (Math.Max(0, other) * 100 / elapsedPerCore, (end.Steal - _start.Steal) * 100 / elapsedPerCore);
    }

    private Sample Take()
    {
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice
        var first = File.ReadLines("/proc/stat").First();
        var ticks = first.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long At(int i) => i < ticks.Length ? ticks[i] : 0;
        var total = At(0) + At(1) + At(2) + At(3) + At(4) + At(5) + At(6) + At(7);
        var ours = ProcStats.CpuTicks(Environment.ProcessId, withReapedChildren: true)
                   + _ourPids.Sum(pid => ProcStats.CpuTicks(pid));
        return new Sample(total, At(0) + At(1) + At(2) + At(5) + At(6), At(7), ours);
    }

    private readonly record struct Sample(long Total, long Busy, long Steal, long Ours);
}
