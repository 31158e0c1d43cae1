using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>
/// The hand-off of readable connections to worker threads: parked workers are woken one per connection, the most recently
/// parked first, and no connection is lost or taken twice when wake-ups race with timeouts and with busy workers.
/// </summary>
[TestFixture]
public class ActiveQueueTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Test]
    public void AParkedWorkerIsWokenByAnEnqueueAndGetsTheConnection()
    {
        var queue = new ActiveQueue();
        var connection = NewConnection();
        var taker = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
        WaitUntil(() => queue.ParkedCount == 1);

        queue.Enqueue(connection);

        Assert.That(taker.Wait(Bound), Is.True, "the parked worker woke");
        Assert.That(taker.Result, Is.SameAs(connection));
        Assert.That(queue.Count, Is.Zero);
    }

    [Test]
    public void OneEnqueueWakesOnlyTheMostRecentlyParkedWorker()
    {
        var queue = new ActiveQueue();
        var first = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
        WaitUntil(() => queue.ParkedCount == 1);
        var second = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
        WaitUntil(() => queue.ParkedCount == 2);

        var connection = NewConnection();
        queue.Enqueue(connection);

        Assert.That(second.Wait(Bound), Is.True, "the most recently parked worker woke");
        Assert.That(second.Result, Is.SameAs(connection));
        Assert.That(first.IsCompleted, Is.False, "the earlier one slept on");
        Assert.That(queue.ParkedCount, Is.EqualTo(1));

        queue.Enqueue(NewConnection());
        Assert.That(first.Wait(Bound), Is.True, "the next enqueue woke the other");
    }

    [Test]
    public void AConnectionQueuedBehindWorkersBlockedOnEveryProcessorIsTakenByAParkedWorkerWithoutTheStarvationCheck()
    {
        // Rocket's model: handlers may block. Workers holding every processor's worth of connections must not keep a
        // parked worker asleep while a connection waits (it would wait for the pool's 50 ms starvation check).
        var queue = new ActiveQueue();
        using var release = new ManualResetEventSlim();
        var holders = Enumerable.Range(0, Environment.ProcessorCount).Select(i => Task.Factory.StartNew(
            () =>
            {
                var held = queue.Take(Bound, out _);
                release.Wait(Bound); // a handler that blocks holds its connection
                return held;
            },
            TaskCreationOptions.LongRunning)).ToArray();
        WaitUntil(() => queue.ParkedCount == holders.Length);
        for (var i = 0; i < holders.Length; i++)
        {
            queue.Enqueue(NewConnection());
        }

        WaitUntil(() => queue.Count == 0 && queue.ParkedCount == 0); // every holder took one
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var later = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
            WaitUntil(() => queue.ParkedCount == 1);
            var taker = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
            WaitUntil(() => queue.ParkedCount == 2);

            var first = NewConnection();
            var second = NewConnection();
            queue.Enqueue(first);
            queue.Enqueue(second); // often queued while the worker woken for the first is still on its way

            // Nobody calls WakeIfWaiting here: the worker that took the first wakes the other for the second.
            Assert.That(taker.Wait(Bound), Is.True);
            Assert.That(taker.Result, Is.SameAs(first));
            Assert.That(later.Wait(Bound), Is.True, "the second connection waited although a worker was parked");
            Assert.That(later.Result, Is.SameAs(second));
        }

        release.Set();
        Assert.That(Task.WaitAll(holders, Bound), Is.True);
    }

    [Test]
    public void AWorkerThatFindsAConnectionQueuedTakesItWithoutParking()
    {
        var queue = new ActiveQueue();
        var connection = NewConnection();
        queue.Enqueue(connection);

        Assert.That(queue.Take(TimeSpan.Zero, out _), Is.SameAs(connection));
        Assert.That(queue.Take(TimeSpan.Zero, out _), Is.Null);
    }

    [Test]
    public void AParkedWorkerGivesUpAfterItsTimeoutAndLeavesTheParkedList()
    {
        var queue = new ActiveQueue();

        Assert.That(queue.Take(TimeSpan.FromMilliseconds(50), out _), Is.Null);
        Assert.That(queue.ParkedCount, Is.Zero);

        // The next connection is queued, not handed to a worker that is gone.
        var connection = NewConnection();
        queue.Enqueue(connection);
        Assert.That(queue.Count, Is.EqualTo(1));
        Assert.That(queue.Take(TimeSpan.Zero, out _), Is.SameAs(connection));
    }

    [Test]
    public void WakeReleasesParkedWorkersAndTheNextTakersAtShutdown()
    {
        var queue = new ActiveQueue();
        var parked = Task.Factory.StartNew(() => queue.Take(Bound, out _), TaskCreationOptions.LongRunning);
        WaitUntil(() => queue.ParkedCount == 1);

        queue.Wake(2);

        Assert.That(parked.Wait(Bound), Is.True);
        Assert.That(parked.Result, Is.Null);
        Assert.That(queue.Take(Bound, out _), Is.Null, "a worker that was busy during the wake does not park afterwards");
    }

    [Test]
    public void EveryConnectionIsTakenExactlyOnceWhenMoreBecomeReadableAtOnceThanThereAreWorkers()
    {
        const int workers = 4;
        const int bursts = 300;
        const int perBurst = 16;
        var queue = new ActiveQueue();
        var taken = new ConcurrentDictionary<ConnectionTransport, int>(ReferenceEqualityComparer.Instance);
        var all = Enumerable.Range(0, bursts * perBurst).Select(_ => NewConnection()).ToArray();
        using var done = new CancellationTokenSource();
        var threads = Enumerable.Range(0, workers).Select(i => new Thread(() =>
        {
            var random = new Random(i);
            while (!done.IsCancellationRequested)
            {
                // Short and varied timeouts: parked workers time out while wake-ups are on their way to them.
                var c = queue.Take(TimeSpan.FromMilliseconds(random.Next(0, 3)), out _);
                if (c is not null)
                {
                    taken.AddOrUpdate(c, 1, (_, n) => n + 1);
                    if (random.Next(4) == 0)
                    {
                        Thread.SpinWait(random.Next(1, 2000)); // a busy worker
                    }
                }
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        for (var b = 0; b < bursts; b++)
        {
            for (var i = 0; i < perBurst; i++)
            {
                queue.Enqueue(all[b * perBurst + i]);
            }

            Thread.Yield();
        }

        WaitUntil(() => taken.Count == all.Length);
        done.Cancel();
        foreach (var t in threads)
        {
            Assert.That(t.Join(Bound), Is.True);
        }

        Assert.That(taken.Values.Where(n => n != 1), Is.Empty, "no connection taken twice");
        Assert.That(queue.Count, Is.Zero);
    }

    private static ConnectionTransport NewConnection() => (ConnectionTransport)RuntimeHelpers.GetUninitializedObject(typeof(ConnectionTransport));

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "condition not reached in time");
            Thread.Sleep(1);
        }
    }
}

