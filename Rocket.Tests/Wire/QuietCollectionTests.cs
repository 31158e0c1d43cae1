using System.Diagnostics;
using RocketOwin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// <see cref="ServerLimits.QuietCollectionDelay"/>: after a burst of allocation the monitor runs one full compacting
/// collection once the process has been quiet that long, never while requests keep allocating, and none when it is off.
/// The state is the process's (the GC heap is), so these run alone.
/// </summary>
[NonParallelizable]
public class QuietCollectionTests
{
    private const int MiB = 1024 * 1024;

    [Test]
    public void AfterABurstOfAllocatingRequestsAndAQuietSecondTheServerRunsOneCollectionAndNoMore()
    {
        using var server = new TestServer(new AllocatingWorker(), minThreads: 2, limits: new ServerLimits { QuietCollectionDelay = TimeSpan.FromSeconds(1) });
        using var client = server.Connect();
        Burst(client);
        var before = QuietCollector.Collections;
        var burstEnded = Stopwatch.GetTimestamp();

        Assert.That(Wire.WaitUntil(() => QuietCollector.Collections > before, TimeSpan.FromSeconds(20)), Is.True, "no collection within 20 s of the burst");
        Assert.That(Stopwatch.GetElapsedTime(burstEnded), Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)), "collected before the quiet period was over");

        // Quiet for three more periods, nothing allocated: no second collection.
        Thread.Sleep(TimeSpan.FromSeconds(3.5));
        Assert.That(QuietCollector.Collections, Is.EqualTo(before + 1));

        // The server serves on.
        client.Send("GET /?mib=0 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void NoCollectionRunsWhileRequestsKeepAllocatingOnlyOnceTheyStop()
    {
        using var server = new TestServer(new AllocatingWorker(), minThreads: 2, limits: new ServerLimits { QuietCollectionDelay = TimeSpan.FromSeconds(2) });
        using var client = server.Connect();
        Burst(client);

        // Keep allocating through requests (~1 MiB each, far above the quiet rate) for 6 s: three quiet periods' worth of time.
        var until = Stopwatch.GetTimestamp() + (6 * Stopwatch.Frequency);
        var loadStarted = Stopwatch.GetTimestamp();
        var during = -1;
        while (Stopwatch.GetTimestamp() < until)
        {
            client.Send("GET /?mib=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            if (during < 0 && Stopwatch.GetElapsedTime(loadStarted) > TimeSpan.FromSeconds(1))
            {
                // Counted from here: a collection the process owed from before the load may have run at its start.
                during = QuietCollector.Collections;
            }
        }

        Assert.That(QuietCollector.Collections, Is.EqualTo(during), "collected while requests were allocating");
        Assert.That(Wire.WaitUntil(() => QuietCollector.Collections == during + 1, TimeSpan.FromSeconds(20)), Is.True, "no collection after the load stopped");
    }

    [Test]
    public void WithTheDelaySetToNullNoCollectionRunsAfterABurst()
    {
        using var server = new TestServer(new AllocatingWorker(), minThreads: 2, limits: new ServerLimits { QuietCollectionDelay = null });
        using var client = server.Connect();
        Burst(client);
        var before = QuietCollector.Collections;
        Thread.Sleep(TimeSpan.FromSeconds(3.5));
        Assert.That(QuietCollector.Collections, Is.EqualTo(before));
    }

    [Test]
    public void AHeapLargerThanTheCollectorsLimitIsNotCompactedAfterABurst()
    {
        var limit = QuietCollector.MaxHeapBytes;
        QuietCollector.MaxHeapBytes = 1024; // every heap is larger
        try
        {
            using var server = new TestServer(new AllocatingWorker(), minThreads: 2, limits: new ServerLimits { QuietCollectionDelay = TimeSpan.FromSeconds(1) });
            using var client = server.Connect();
            Burst(client);
            var before = QuietCollector.Collections;
            Thread.Sleep(TimeSpan.FromSeconds(3.5));
            Assert.That(QuietCollector.Collections, Is.EqualTo(before), "compacted a heap above MaxHeapBytes");
        }
        finally
        {
            QuietCollector.MaxHeapBytes = limit;
        }
    }

    /// <summary>Requests that together allocate more than the collector's burst threshold (which grows with the heap).</summary>
    private static void Burst(RawClient client)
    {
        var requests = (int)(QuietCollector.BurstBytes / MiB) + 8;
        for (var i = 0; i < requests; i++)
        {
            client.Send("GET /?mib=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        }
    }

    /// <summary>Allocates the query's mebibytes as 64 KiB arrays (small-object heap), then answers "ok".</summary>
    private sealed class AllocatingWorker : Worker
    {
        private static byte[]? _sink;

        protected override ValueTask HandleAsync(RequestContext context)
        {
            var chunks = context.Request.QueryString.EndsWith('1') ? 16 : 0;
            for (var i = 0; i < chunks; i++)
            {
                Volatile.Write(ref _sink, new byte[64 * 1024]);
            }

            context.Response.Write("ok"u8.ToArray());
            return ValueTask.CompletedTask;
        }
    }
}
