using System.Diagnostics;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>Deadlines on the monitor's timers: a token cancelled after its delay, on the monitor's thread, or never once disposed.</summary>
public class MonitorDeadlineTests
{
    [Test]
    public void ATokenIsCancelledOnTheMonitorThreadOnceItsDelayHasPassed()
    {
        var clock = Stopwatch.StartNew();
        using var deadline = new MonitorDeadline(TimeSpan.FromMilliseconds(200));
        string? threadName = null;
        var poolThread = true;
        using var cancelled = new ManualResetEventSlim();
        using var registration = deadline.Token.Register(() =>
        {
            threadName = Thread.CurrentThread.Name;
            poolThread = Thread.CurrentThread.IsThreadPoolThread;
            cancelled.Set();
        });

        Assert.That(cancelled.Wait(TimeSpan.FromSeconds(10)), Is.True, "the deadline never fired");
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(190)));
        Assert.That(threadName, Is.EqualTo(MonitorThread.Name));
        Assert.That(poolThread, Is.False);
    }

    [Test]
    public void ADisposedDeadlineNeverCancels()
    {
        var deadline = new MonitorDeadline(TimeSpan.FromMilliseconds(50));
        var token = deadline.Token;
        var fired = false;
        token.Register(() => fired = true);
        deadline.Dispose();

        // A later deadline as the clock: once it fired, the disposed one's time is long past.
        using var later = new MonitorDeadline(TimeSpan.FromMilliseconds(300));
        Assert.That(later.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(fired, Is.False);
    }
}
