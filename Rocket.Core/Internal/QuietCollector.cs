using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>
/// The process's quiet-time collection (<see cref="ServerLimits.QuietCollectionDelay"/>), in the spirit of the JVM's
/// G1PeriodicGCInterval: after a burst of allocation followed by a quiet period, one full compacting collection in
/// <see cref="GCCollectionMode.Aggressive"/> mode, which also decommits the gen0 budget and the free regions.
/// </summary>
/// <remarks>
/// Why: a burst of WebSocket handshakes leaves ~3.2 KB of live objects per socket interleaved with ~3.7 KB of garbage per
/// handshake, and the workstation GC, whose gen0 budget on a machine with a large cache is 12-19 MB, then keeps everything
/// it touched committed (measured: 5.4 KB RSS per idle socket at 5,000, flat for 30 s) because an idle server allocates
/// nothing that would make it collect again. Allocation, not requests, is what the GC sees, so quiet is judged by
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/>: no request-path counter, and any load (requests, WebSocket messages,
/// new connections) that allocates counts. Process-wide state: the GC heap is the process's, so servers share it.
/// Called from each server's monitor sweep (once a second).
/// </remarks>
internal static class QuietCollector
{
    /// <summary>Allocation rate below which the process counts as quiet (the monitor and an idle server allocate next to nothing).</summary>
    public const long QuietBytesPerSecond = 256 * 1024;

    /// <summary>The least allocation since the last quiet collection that makes one worth its pause (below that the gen0 budget alone covers it).</summary>
    public const long MinBurstBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Largest heap (as the last collection left it) the quiet-time collection still compacts: its pause grows with the heap
    /// (65-157 ms at ~35 MB on this project's 2-core machines), and beyond this much the heap is the application's own data
    /// (caches, not per-connection garbage), where a pause of seconds would cost more than the memory it returns.
    /// Settable for tests.
    /// </summary>
    internal static long MaxHeapBytes = 256L * 1024 * 1024;

    private static readonly Lock Gate = new();
    private static long _lastTick;
    private static long _lastAllocated;
    private static long _activeAt;
    private static long _allocatedAtCollection;
    private static long _heapAtCollection;
    private static int _collections;

    /// <summary>Quiet-time collections run in this process (for tests and diagnostics).</summary>
    public static int Collections => Volatile.Read(ref _collections);

    /// <summary>How much the process must allocate, counted from the last quiet-time collection, before the next one may run.</summary>
    public static long BurstBytes
    {
        get
        {
            lock (Gate)
            {
                return Threshold;
            }
        }
    }

    /// <summary>The burst that makes a collection worth its pause: at least as much allocated as the heap it walks (under <see cref="Gate"/>).</summary>
    private static long Threshold => Math.Max(MinBurstBytes, _heapAtCollection);

    /// <summary>
    /// One look, from a monitor sweep at <paramref name="now"/> (Stopwatch ticks): collects when the process has allocated
    /// less than <see cref="QuietBytesPerSecond"/> for <paramref name="delay"/> and a burst came before; true if it did.
    /// </summary>
    public static bool Tick(long now, TimeSpan delay)
    {
        lock (Gate)
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            var elapsed = _lastTick == 0 ? 0 : (double)(now - _lastTick) / Stopwatch.Frequency;
            if (_lastTick == 0 || allocated - _lastAllocated > QuietBytesPerSecond * Math.Max(elapsed, 0.5))
            {
                _activeAt = now;
            }

            _lastTick = now;
            _lastAllocated = allocated;

            // The burst must be worth a full collection, so its cost stays proportional to the work that made the garbage.
            var burst = allocated - _allocatedAtCollection;
            if (now - _activeAt < delay.TotalSeconds * Stopwatch.Frequency || burst < Threshold)
            {
                return false;
            }

            var before = GC.GetGCMemoryInfo();
            if (before.HeapSizeBytes > MaxHeapBytes)
            {
                // Too big to pause for: count this burst as handled, so the check waits for the next one.
                _allocatedAtCollection = allocated;
                _heapAtCollection = before.HeapSizeBytes;
                return false;
            }

            var committedBefore = before.TotalCommittedBytes;
            var started = Stopwatch.GetTimestamp();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var pause = Stopwatch.GetElapsedTime(started);
            var after = GC.GetGCMemoryInfo();
            _allocatedAtCollection = GC.GetTotalAllocatedBytes(precise: false);
            _lastAllocated = _allocatedAtCollection;
            _heapAtCollection = after.HeapSizeBytes;
            Interlocked.Increment(ref _collections);
            RocketLog.Main.Debug(
                "Quiet for {0:0.#} s after {1:0.0} MiB allocated: full compacting collection in {2:0.0} ms; heap {3:0.0} MiB, committed {4:0.0} -> {5:0.0} MiB (ServerLimits.QuietCollectionDelay).",
                delay.TotalSeconds, burst / 1048576.0, pause.TotalMilliseconds, after.HeapSizeBytes / 1048576.0, committedBefore / 1048576.0, after.TotalCommittedBytes / 1048576.0);
            return true;
        }
    }
}
