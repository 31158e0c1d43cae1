namespace RocketOwin.Internal;

/// <summary>
/// Which worker threads are running rather than waiting, read from /proc/self/task/*/stat (Linux): the scheduler's own
/// view, so a machine loaded by other processes does not make CPU-bound workers look blocked. Elsewhere: unknown (0).
/// </summary>
internal static class WorkerThreadStates
{
    /// <summary>Worker thread names start with this; Linux keeps the first 15 bytes of a thread's name, which covers it.</summary>
    public const string NamePrefix = "Rocket worker";

    private const string TaskFolder = "/proc/self/task";

    /// <summary>Counts worker threads in state R (running or runnable), stopping at <paramref name="enough"/>.</summary>
    public static int RunnableWorkers(int enough)
    {
        var runnable = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories(TaskFolder))
            {
                if (IsRunnableWorker(Path.Combine(task, "stat")) && ++runnable >= enough)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc: treat every worker as blocked, so the pool grows as it always did.
        }

        return runnable;
    }

    /// <summary>Parses "tid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.</summary>
    internal static bool IsRunnableWorker(string statPath)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(statPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the thread exited meanwhile
        }

        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        return open >= 0 && close > open && close + 2 < stat.Length
            && stat.AsSpan(open + 1, close - open - 1).StartsWith(NamePrefix, StringComparison.Ordinal)
            && stat[close + 2] == 'R';
    }

}
