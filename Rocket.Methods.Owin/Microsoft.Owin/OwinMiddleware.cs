namespace Microsoft.Owin;

/// <summary>A Katana middleware: receives the next component in its constructor and runs per request in <see cref="Invoke"/>.</summary>
/// <remarks>One instance serves every request concurrently: keep per-request state in locals.</remarks>
public abstract class OwinMiddleware
{
    /// <summary>Creates the middleware in front of <paramref name="next"/>.</summary>
    protected OwinMiddleware(OwinMiddleware next) => Next = next;

    /// <summary>The next component in the pipeline.</summary>
    protected OwinMiddleware Next { get; set; }

    /// <summary>Handles one request.</summary>
    public abstract Task Invoke(IOwinContext context);
}
