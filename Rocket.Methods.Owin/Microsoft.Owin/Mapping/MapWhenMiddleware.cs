namespace Microsoft.Owin.Mapping;

/// <summary>Sends requests that pass a predicate to a branch; others go on to the next component.</summary>
public class MapWhenMiddleware : OwinMiddleware
{
    private readonly MapWhenOptions _options;

    /// <summary>Creates the middleware.</summary>
    public MapWhenMiddleware(OwinMiddleware next, MapWhenOptions options)
        : base(next)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = options.Branch ?? throw new ArgumentException("MapWhenOptions.Branch is required.", nameof(options));
        if (options.Predicate is null && options.PredicateAsync is null)
        {
            throw new ArgumentException("MapWhenOptions needs a Predicate or a PredicateAsync.", nameof(options));
        }

        _options = options;
    }

    /// <inheritdoc />
    public override async Task Invoke(IOwinContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var matches = _options.Predicate is { } predicate
            ? predicate(context)
            : await _options.PredicateAsync!(context).ConfigureAwait(false);
        if (matches)
        {
            await _options.Branch!(context.Environment).ConfigureAwait(false);
        }
        else
        {
            await Next.Invoke(context).ConfigureAwait(false);
        }
    }
}
