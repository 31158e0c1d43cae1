using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>The monitor thread's timers: the same contract as System.Threading.Timer, run on one named thread.</summary>
public class MonitorTimerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Test]
    public void APeriodicTimerRunsOnTheRocketMonitorThreadUntilDisposed()
    {
        var runs = 0;
        string? threadName = null;
        var poolThread = true;
        var ticked = new SemaphoreSlim(0); // not disposed: a run taken before Dispose may still release it
        var timer = new MonitorTimer(() =>
        {
            threadName = Thread.CurrentThread.Name;
            poolThread = Thread.CurrentThread.IsThreadPoolThread;
            Interlocked.Increment(ref runs);
            ticked.Release();
        }, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        Assert.That(WaitTicks(ticked, 3), Is.True);
        timer.Dispose();
        var afterDispose = Volatile.Read(ref runs);

        // Another timer as the clock: five of its 5 ms periods pass with the disposed one silent (one run taken before Dispose may finish).
        var clockTicked = new SemaphoreSlim(0);
        using var clock = new MonitorTimer(() => clockTicked.Release(), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        Assert.That(WaitTicks(clockTicked, 5), Is.True);
        clock.Dispose();

        Assert.That(threadName, Is.EqualTo(MonitorThread.Name));
        Assert.That(poolThread, Is.False);
        Assert.That(Volatile.Read(ref runs), Is.LessThanOrEqualTo(afterDispose + 1));
    }

    [Test]
    public void AOneShotTimerRunsOnceAndCanBeArmedAgainFromItsOwnCallback()
    {
        var runs = 0;
        var done = new ManualResetEventSlim();
        MonitorTimer? timer = null;
        timer = new MonitorTimer(() =>
        {
            if (Interlocked.Increment(ref runs) < 3)
            {
                timer!.Change(TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
            }
            else
            {
                done.Set();
            }
        });
        timer.Change(TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        Assert.That(done.Wait(Bound), Is.True);

        var later = new ManualResetEventSlim();
        using var clock = new MonitorTimer(later.Set, TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        Assert.That(later.Wait(Bound), Is.True);
        Assert.That(Volatile.Read(ref runs), Is.EqualTo(3));
        timer.Dispose();
    }

    [Test]
    public void ATimerDueSoonerWakesTheThreadOutOfALongerWait()
    {
        using var hourly = new MonitorTimer(() => { }, TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        var soon = new ManualResetEventSlim();
        using var quick = new MonitorTimer(soon.Set, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
        Assert.That(soon.Wait(Bound), Is.True);
    }

    [Test]
    public void AFailingCallbackDoesNotStopTheOtherTimers()
    {
        using var failing = new MonitorTimer(() => throw new InvalidOperationException("test: a failing job"), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        var ticked = new SemaphoreSlim(0);
        using var healthy = new MonitorTimer(() => ticked.Release(), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        Assert.That(WaitTicks(ticked, 3), Is.True);
    }

    private static bool WaitTicks(SemaphoreSlim ticked, int count)
        => Enumerable.Range(0, count).All(_ => ticked.Wait(Bound));
}
