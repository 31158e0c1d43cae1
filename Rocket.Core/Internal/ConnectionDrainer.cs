using System.Diagnostics;

namespace RocketOwin.Internal;

/// <summary>
/// The zero-loss part of Stop, once the listeners no longer accept. A connection is only ever closed where no request
/// can be lost: one that is serving a request answers it with <c>Connection: close</c> and closes after the response
/// (<see cref="ServerCore.IsStopping"/>); one that is idle is closed with a lingering close once it has had no request
/// for <see cref="ServerLimits.ShutdownIdleGrace"/> (a balancer reusing it within that time gets its answer); at
/// <see cref="ServerLimits.ShutdownTimeout"/> whatever is left is aborted.
/// </summary>
/// <remarks>
/// Why the grace: closing an idle keep-alive connection races with a client that is sending on it right then
/// (RFC 9112 §9.3.1 lets clients retry then, but balancers pass the failure on to their own client: HAProxy's
/// http-reuse relies on that). A connection that saw no request for a while is one the client no longer picks.
/// </remarks>
internal sealed class ConnectionDrainer(ServerCore server)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxLinger = TimeSpan.FromSeconds(2);
    private readonly List<Task<bool>> _lingering = [];

    /// <summary>Requests that arrived on a connection just as its lingering close began (the unavoidable race); logged.</summary>
    public int CrossedRequests { get; private set; }

    /// <summary>Runs the drain; returns when every connection is closed or the shutdown timeout is over.</summary>
    public void Run()
    {
        var limits = server.Limits;
        var start = Stopwatch.GetTimestamp();
        var deadline = start + Ticks(limits.ShutdownTimeout);
        var grace = Ticks(limits.ShutdownIdleGrace < limits.ShutdownTimeout ? limits.ShutdownIdleGrace : limits.ShutdownTimeout);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            server.Table.ForEach((now, start, grace, deadline), (c, s) => CloseIfQuiet(c, s.now, s.start, s.grace, s.deadline));
            _lingering.RemoveAll(Finished);
            if ((server.Table.Count == 0 && server.InFlight == 0) || now >= deadline)
            {
                break;
            }

            Thread.Sleep(PollInterval);
        }

        if (server.InFlight > 0)
        {
            RocketLog.Main.Warn("{0} request(s) still running after the shutdown timeout ({1}); their connections are being closed.", server.InFlight, limits.ShutdownTimeout);
        }

        server.Table.ForEach(0, static (c, _) =>
        {
            c.Exchange?.Context.Abort();
            c.Upgraded?.Abort();
            c.Close(abort: true);
        });
        Task.WaitAll([.. _lingering], MaxLinger);
        _lingering.RemoveAll(Finished);
    }

    private void CloseIfQuiet(ConnectionTransport c, long now, long start, long grace, long deadline)
    {
        if (!c.IsIdle || now - Math.Max(start, c.IdleSince) < grace)
        {
            return;
        }

        var remaining = TimeSpan.FromSeconds((double)(deadline - now) / Stopwatch.Frequency);
        var linger = remaining < MaxLinger ? remaining : MaxLinger;
        if (c.TryCloseIdleLingering(linger > TimeSpan.Zero ? linger : TimeSpan.FromMilliseconds(1)) is { } closing)
        {
            _lingering.Add(closing);
        }
    }

    private bool Finished(Task<bool> closing)
    {
        if (!closing.IsCompleted)
        {
            return false;
        }

        if (closing.Result)
        {
            CrossedRequests++;
            RocketLog.Main.Info("A request arrived on an idle connection as Stop was closing it; the client must retry it.");
        }

        return true;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
