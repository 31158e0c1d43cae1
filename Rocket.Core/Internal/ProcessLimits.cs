using System.Globalization;

namespace RocketOwin.Internal;

/// <summary>
/// What the operating system lets this process have (Linux, read from /proc and the pids cgroup), and the defaults
/// derived from it: the connection limit and the worker-thread maximum. Elsewhere the answers are "unknown" and the
/// defaults fall back to the processor count alone.
/// </summary>
internal static class ProcessLimits
{
    /// <summary>Worker threads per processor in the default maximum: enough for handlers that block on I/O, far from what the kernel or a container allows.</summary>
    private const int ThreadsPerProcessor = 64;

    /// <summary>The soft file-descriptor limit (RLIMIT_NOFILE), or null when unknown or unlimited.</summary>
    public static long? DescriptorLimit() => ReadLimit("Max open files");

    /// <summary>
    /// The default for <see cref="ServerLimits.MaxConcurrentConnections"/>: the descriptor limit less a reserve of an eighth
    /// (at least 64) for the runtime's own descriptors, logs and upstream connections; null when the limit is unknown.
    /// </summary>
    public static long? DefaultMaxConnections(long? descriptorLimit)
        => descriptorLimit is { } n ? Math.Max(1, n - Math.Max(64, n / 8)) : null;

    /// <summary>
    /// The default maximum of worker threads: 64 per processor, capped at half of what the pids cgroup (systemd's TasksMax,
    /// a container's pids limit) lets the process have, never below <paramref name="minThreads"/>.
    /// </summary>
    public static int DefaultMaxThreads(int minThreads, int processorCount, long? pidsLimit)
    {
        long max = (long)ThreadsPerProcessor * Math.Max(1, processorCount);
        if (pidsLimit is { } pids)
        {
            max = Math.Min(max, pids / 2);
        }

        return (int)Math.Max(minThreads, Math.Min(max, int.MaxValue));
    }

    /// <summary>The pids cgroup's pids.max for this process (cgroup v2 or v1), or null when there is none or it is "max".</summary>
    public static long? PidsLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/cgroup"))
            {
                // "0::/path" (v2) or "N:pids:/path" (v1).
                var parts = line.Split(':', 3);
                if (parts.Length != 3)
                {
                    continue;
                }

                var folder = parts[1] switch
                {
                    "" => "/sys/fs/cgroup" + parts[2],
                    "pids" => "/sys/fs/cgroup/pids" + parts[2],
                    _ => null,
                };
                if (folder is not null && ReadNumber(Path.Combine(folder, "pids.max")) is { } max)
                {
                    return max;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static long? ReadNumber(string path)
    {
        try
        {
            return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The soft value of one line of /proc/self/limits ("Max open files  1024  4096  files").</summary>
    private static long? ReadLimit(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith(name, StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
