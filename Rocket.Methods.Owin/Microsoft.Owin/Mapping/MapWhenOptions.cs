namespace Microsoft.Owin.Mapping;

/// <summary>What <see cref="MapWhenMiddleware"/> tests and where it sends matching requests.</summary>
public class MapWhenOptions
{
    /// <summary>A synchronous test (used when set).</summary>
    public Func<IOwinContext, bool>? Predicate { get; set; }

    /// <summary>An asynchronous test (used when <see cref="Predicate"/> is null).</summary>
    public Func<IOwinContext, Task<bool>>? PredicateAsync { get; set; }

    /// <summary>The branch pipeline.</summary>
    public Func<IDictionary<string, object>, Task>? Branch { get; set; }
}
