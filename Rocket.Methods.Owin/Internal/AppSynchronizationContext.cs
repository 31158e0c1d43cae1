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
    private static readonly AppSynchronizationContext Instance = new();

    private AppSynchronizationContext()
    {
    }

    /// <summary>Makes this context current until the returned scope is disposed (then the previous one is restored).</summary>
    public static Scope Enter()
    {
        var scope = new Scope(Current);
        SetSynchronizationContext(Instance);
        return scope;
    }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
        => ThreadPool.UnsafeQueueUserWorkItem(
            static continuation =>
            {
                // Current while it runs, so the application's next await posts here too.
                using (Enter())
                {
                    continuation.Callback(continuation.State);
                }
            },
            (Callback: d, State: state),
            preferLocal: false);

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Restores the synchronization context that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope(SynchronizationContext? previous) : IDisposable
    {
        public void Dispose() => SetSynchronizationContext(previous);
    }
}
