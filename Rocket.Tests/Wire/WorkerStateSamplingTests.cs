using RocketOwin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// The pool samples its workers' scheduler states 20 times a second while it is saturated, which under constant load is
/// all the time: whatever a sample allocates is the server's steady allocation rate (the soak benchmark's RSS creep).
/// </summary>
[TestFixture]
public class WorkerStateSamplingTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [Test]
    public void SamplingTheWorkersStatesSeesARunningWorkerAndAllocatesNothing()
    {
        using var release = new ManualResetEventSlim();
        using var spinning = new ManualResetEventSlim();
        using var server = new TestServer(
            new LambdaWorker(c =>
            {
                spinning.Set();
                var deadline = Environment.TickCount64 + 30_000;
                while (!release.IsSet && Environment.TickCount64 < deadline)
                {
                    Thread.SpinWait(1000);
                }

                c.Response.Write("done"u8);
                return ValueTask.CompletedTask;
            }),
            minThreads: 2,
            maxThreads: 2);
        using var client = server.Connect();
        client.Send(Get);
        try
        {
            Assert.That(spinning.Wait(TimeSpan.FromSeconds(30)), Is.True, "the worker started spinning");
            WorkerThreadStates.RunnableWorkers(int.MaxValue); // first use: type initialisation, handles
            const int samples = 1_000;
            var seen = 0;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < samples; i++)
            {
                seen = Math.Max(seen, WorkerThreadStates.RunnableWorkers(int.MaxValue));
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            TestContext.Out.WriteLine($"{samples} samples allocated {allocated} bytes; at most {seen} runnable workers seen");
            Assert.That(seen, Is.GreaterThanOrEqualTo(1), "a spinning worker is runnable (state R)");
            // Before: Directory.EnumerateDirectories + File.ReadAllText per thread, kilobytes per sample.
            Assert.That(allocated, Is.LessThan(samples * 8L), "bytes allocated by the samples");
        }
        finally
        {
            release.Set();
        }

        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void TheActiveQueueWatchedForStarvationWhileConnectionsFlowThroughItAllocatesNothing()
    {
        var queue = new ActiveQueue();
        const int turns = 10_000;
        for (var i = 0; i < 100; i++)
        {
            queue.Enqueue(null!);
            _ = queue.OldestWait;
            queue.Take(TimeSpan.Zero, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < turns; i++)
        {
            // The starvation timer asks for the oldest wait 20 times a second while the pool is saturated, between enqueues.
            queue.Enqueue(null!);
            _ = queue.OldestWait;
            queue.Take(TimeSpan.Zero, out _);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        TestContext.Out.WriteLine($"{turns} enqueues, peeks and takes allocated {allocated} bytes");
        // Before: ConcurrentQueue.TryPeek keeps the segment's slots from being reused, so every 32 enqueues after a peek
        // allocated a new segment (~1 KB): the owin soak's RSS creep of ~50 KB/s.
        Assert.That(allocated, Is.LessThan(1024), "bytes allocated");
        Assert.That(queue.Count, Is.Zero);
    }
}
