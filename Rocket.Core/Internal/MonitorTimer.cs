namespace RocketOwin.Internal;

/// <summary>
/// A timer whose callback runs on the <see cref="MonitorThread"/> instead of the .NET thread pool; the same shape as
/// <see cref="System.Threading.Timer"/> (due time, period, <see cref="Change"/>, <see cref="Dispose"/>).
/// </summary>
/// <remarks>
/// Callbacks of all monitor timers run one after another on that one thread, so they must be short and never block: a
/// slow one delays every other periodic job of the process. A callback never overlaps itself. A callback already taken
/// for running when <see cref="Dispose"/> is called still runs once (as with <see cref="System.Threading.Timer"/>).
/// </remarks>
internal sealed class MonitorTimer : IDisposable
{
    private readonly Action _callback;

    /// <summary>A timer that does not run until <see cref="Change"/> arms it.</summary>
    public MonitorTimer(Action callback) => _callback = callback;

    /// <summary>A timer that first runs after <paramref name="dueTime"/>, then every <paramref name="period"/> (see <see cref="Change"/>).</summary>
    public MonitorTimer(Action callback, TimeSpan dueTime, TimeSpan period)
        : this(callback) => Change(dueTime, period);

    // The schedule, read and written under MonitorThread's lock only.
    internal long DueAt { get; set; }

    internal long PeriodTicks { get; set; }

    internal bool Armed { get; set; }

    internal bool Disposed { get; set; }

    /// <summary>
    /// Runs the callback after <paramref name="dueTime"/>, then every <paramref name="period"/> (zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/>: once). <see cref="Timeout.InfiniteTimeSpan"/> as the due time disarms it.
    /// Ignored once disposed.
    /// </summary>
    public void Change(TimeSpan dueTime, TimeSpan period) => MonitorThread.Schedule(this, dueTime, period);

    /// <summary>Disarms the timer for good.</summary>
    public void Dispose() => MonitorThread.Remove(this);

    internal void Run() => _callback();
}
