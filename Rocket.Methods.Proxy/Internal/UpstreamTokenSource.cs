using System.Collections.Concurrent;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// The cancellation source of one upstream exchange: cancelled when the client goes away or a timeout
/// armed with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> fires. Pooled, as YARP pools its
/// ActivityCancellationTokenSource: a linked source per request cost a source, a registration node and a
/// timer on every request; a reset one keeps its timer and registration storage.
/// </summary>
internal sealed class UpstreamTokenSource : CancellationTokenSource
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<UpstreamTokenSource> Pool = new();
    private static int _pooled;
    private static readonly Action<object?> CancelOnClientGone = static state => ((UpstreamTokenSource)state!).Cancel();

    private CancellationTokenRegistration _clientGone;

    private UpstreamTokenSource()
    {
    }

    /// <summary>A source that fires when <paramref name="clientGone"/> does, or when a timeout armed on it expires.</summary>
    public static UpstreamTokenSource Rent(CancellationToken clientGone)
    {
        if (Pool.TryDequeue(out var source))
        {
            Interlocked.Decrement(ref _pooled);
            if (source.IsCancellationRequested)
            {
                // A timeout that was already firing when the source was reset cancelled it in the pool.
                source.Dispose();
                source = new UpstreamTokenSource();
            }
        }
        else
        {
            source = new UpstreamTokenSource();
        }

        source._clientGone = clientGone.UnsafeRegister(CancelOnClientGone, source);
        return source;
    }

    /// <summary>Ends the exchange: unlinks it from the client and pools the source if it never fired.</summary>
    public void Return()
    {
        // Dispose (not Unregister): it waits for a Cancel already running on another thread to finish.
        _clientGone.Dispose();
        _clientGone = default;
        if (TryReset())
        {
            if (Interlocked.Increment(ref _pooled) <= MaxPooled)
            {
                Pool.Enqueue(this);
                return;
            }

            Interlocked.Decrement(ref _pooled);
        }

        Dispose();
    }
}
