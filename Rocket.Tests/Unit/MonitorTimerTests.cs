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

    [Test]
    public void AThreadLentWithRunUntilRunsTheTimersAloneUntilDoneThenTheMonitorThreadTakesOver()
    {
        Thread? lentThread = null;
        var lentRan = new ManualResetEventSlim();
        var monitorRan = new ManualResetEventSlim();
        var monitorRanAfterLending = new ManualResetEventSlim();
        var lendingOver = 0;
        var inside = 0;
        var overlaps = 0;
        string? otherThread = null;
        void Tick()
        {
            if (Interlocked.Increment(ref inside) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            var current = Thread.CurrentThread;
            if (current == Volatile.Read(ref lentThread))
            {
                lentRan.Set();
            }
            else if (current.Name == MonitorThread.Name)
            {
                monitorRan.Set();
                if (Volatile.Read(ref lendingOver) == 1)
                {
                    monitorRanAfterLending.Set();
                }
            }
            else
            {
                otherThread = current.Name ?? "unnamed";
            }

            Thread.SpinWait(2000);
            Interlocked.Decrement(ref inside);
        }

        using var first = new MonitorTimer(Tick, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        using var second = new MonitorTimer(Tick, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        Assert.That(monitorRan.Wait(Bound), Is.True, "the dedicated thread ran the timers before any thread was lent");

        var done = false;
        var lent = new Thread(() => MonitorThread.RunUntil(() => Volatile.Read(ref done))) { IsBackground = true, Name = "lent to the monitor" };
        Volatile.Write(ref lentThread, lent);
        lent.Start();
        Assert.That(lentRan.Wait(Bound), Is.True, "the lent thread took the loop over");

        Volatile.Write(ref done, true);
        MonitorThread.Wake();
        Assert.That(lent.Join(Bound), Is.True, "RunUntil returned once done");
        Volatile.Write(ref lendingOver, 1);
        Assert.That(monitorRanAfterLending.Wait(Bound), Is.True, "a new monitor thread took the loop back while timers are armed");
        first.Dispose();
        second.Dispose();

        Assert.That(otherThread, Is.Null);
        Assert.That(Volatile.Read(ref overlaps), Is.Zero, "one thread runs the loop at a time");
    }

    private static bool WaitTicks(SemaphoreSlim ticked, int count)
        => Enumerable.Range(0, count).All(_ => ticked.Wait(Bound));
}
