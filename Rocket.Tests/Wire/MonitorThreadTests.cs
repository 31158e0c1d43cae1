using System.Diagnostics;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// The engine's periodic work runs on its own "Rocket monitor" thread, not on .NET thread-pool timer callbacks, so an
/// application that blocks every thread of the .NET thread pool (blocking calls in async code) while that pool cannot
/// grow (its maximum reached: SetMaxThreads, a pids limit) does not stop the keep-alive timeout. Before, the sweep's
/// callback waited for a pool thread that never came.
/// </summary>
[NonParallelizable]
public class MonitorThreadTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [OneTimeSetUp]
    public void Logging() => TestLogging.EnsureConfigured();

    [Test]
    public void IdleKeepAliveConnectionsAreStillClosedOnTimeWhileEveryDotNetThreadPoolThreadIsBlocked()
    {
        var server = new TestServer(Apps.Hello(), timeout: 1);
        var poolBusy = new ManualResetEventSlim(); // not disposed: queued items may still wait on it
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        try
        {
            using var client = new RawClient(server.EndPoint, timeoutMs: 10_000);
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));

            SaturateThreadPool(poolBusy);
            var idle = Stopwatch.StartNew();

            // Timeout 1 s, swept once a second: closed within ~2 s. Before, the close waited for the pool (up to 30 s here).
            Assert.That(client.IsClosedByServer(), Is.True);
            Assert.That(idle.Elapsed, Is.LessThan(TimeSpan.FromSeconds(8)), "closed while the .NET thread pool was still saturated");
            Assert.That(ThreadPool.PendingWorkItemCount, Is.GreaterThan(0), "the .NET thread pool was saturated throughout");
        }
        finally
        {
            poolBusy.Set();
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            server.Dispose();
        }
    }

    /// <summary>
    /// Caps the .NET thread pool at the threads it has, then queues more blocking work items than that, until
    /// <paramref name="release"/> (at most 30 s). The caller restores the maximum.
    /// </summary>
    private static void SaturateThreadPool(ManualResetEventSlim release)
    {
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        ThreadPool.GetMaxThreads(out _, out var maxIo);
        var cap = Math.Max(Math.Max(minWorkers, Environment.ProcessorCount), ThreadPool.ThreadCount);
        Assert.That(ThreadPool.SetMaxThreads(cap, maxIo), Is.True);
        var running = 0;
        for (var i = 0; i < cap + 64; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                Interlocked.Increment(ref running);
                release.Wait(TimeSpan.FromSeconds(30));
            }, null);
        }

        Assert.That(Wire.WaitUntil(() => Volatile.Read(ref running) > 0 && ThreadPool.PendingWorkItemCount > 0, TimeSpan.FromSeconds(10)), Is.True);
    }
}
