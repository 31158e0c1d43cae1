namespace RocketOwin.Benchmarks;

/// <summary>
/// The benchmark's method: every request gets "Hello, World!" as text/plain (Content-Length 13),
/// the same bytes as the Kestrel peer. Kept minimal so that the runs measure the engine.
/// </summary>
internal sealed class PlaintextWorker : Worker
{
    /// <summary>The method name the benchmark registers this worker under.</summary>
    public const string Method = "plaintext";

    private static readonly byte[] Body = "Hello, World!"u8.ToArray();
    private static int _registered;

    /// <summary>Registers the method once per process (serve-rocket and the micro benchmarks both call it).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            Rocket.RegisterMethod(Method, () => new PlaintextWorker());
        }
    }

    protected override ValueTask HandleAsync(RequestContext context)
    {
        context.Response.Headers.ContentType = "text/plain";
        context.Response.Write(Body);
        return ValueTask.CompletedTask;
    }
}
