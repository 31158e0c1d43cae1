namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// The synchronization context an OWIN application runs under: its continuations (every <c>await</c> that does not
/// say <c>ConfigureAwait(false)</c>, which is how Katana-era code is written) run on the .NET thread pool, never on
/// the thread that completed the awaited operation. With inline socket completions that thread can be the socket
/// engine's own, and application code that blocks there (a synchronous <c>Response.Write</c> to a slow client, a
/// <c>.Result</c>) would stall every connection the engine serves. ASP.NET's own context did the same job on IIS.
/// </summary>
internal sealed class AppSynchronizationContext : SynchronizationContext
{
    public static readonly AppSynchronizationContext Instance = new();

    private AppSynchronizationContext()
    {
    }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
        => ThreadPool.UnsafeQueueUserWorkItem(static s => s.Run(), new Continuation(d, state), preferLocal: false);

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs a callback with this context current, so the application's next await posts here too.</summary>
    public static void Run(SendOrPostCallback d, object? state)
    {
        var previous = Current;
        SetSynchronizationContext(Instance);
        try
        {
            d(state);
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    private sealed record Continuation(SendOrPostCallback Callback, object? State)
    {
        public void Run() => AppSynchronizationContext.Run(Callback, State);
    }
}
