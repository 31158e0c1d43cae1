namespace RocketOwin.Internal;

/// <summary>
/// A cancellation token cancelled once a delay has passed, by a one-shot <see cref="MonitorTimer"/>: the same as
/// <c>new CancellationTokenSource(delay)</c> without the runtime's timer queue, so an occasional deadline (a WebSocket's
/// close handshake) does not start the runtime's timer thread in a server that otherwise needs none.
/// </summary>
/// <remarks>
/// The token's callbacks run on the monitor's thread: register only short, non-blocking ones (aborting a socket). The
/// deadline is as precise as the monitor's wake-ups (milliseconds), which is plenty for timeouts of seconds.
/// </remarks>
internal sealed class MonitorDeadline : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly MonitorTimer _timer;

    public MonitorDeadline(TimeSpan delay)
    {
        _timer = new MonitorTimer(Expire);
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    public CancellationToken Token => _source.Token;

    /// <summary>Disarms the deadline (a callback already taken for running may still cancel, harmlessly).</summary>
    public void Dispose()
    {
        _timer.Dispose();
        _source.Dispose();
    }

    private void Expire()
    {
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed while the monitor was about to run it: the operation it bounded is over.
        }
    }
}
