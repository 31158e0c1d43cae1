namespace Microsoft.Owin.Mapping;

/// <summary>
/// Sends requests whose path starts with <see cref="MapOptions.PathMatch"/> to a branch, moving the prefix from
/// Path to PathBase for the branch and restoring both afterwards; other requests go on to the next component.
/// </summary>
public class MapMiddleware : OwinMiddleware
{
    private readonly MapOptions _options;

    /// <summary>Creates the middleware.</summary>
    public MapMiddleware(OwinMiddleware next, MapOptions options)
        : base(next)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = options.Branch ?? throw new ArgumentException("MapOptions.Branch is required.", nameof(options));
        _options = options;
    }

    /// <inheritdoc />
    public override async Task Invoke(IOwinContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path;
        if (!path.StartsWithSegments(_options.PathMatch, out var remaining))
        {
            await Next.Invoke(context).ConfigureAwait(false);
            return;
        }

        var pathBase = context.Request.PathBase;
        context.Request.PathBase = pathBase + _options.PathMatch;
        context.Request.Path = remaining;
        try
        {
            await _options.Branch!(context.Environment).ConfigureAwait(false);
        }
        finally
        {
            context.Request.PathBase = pathBase;
            context.Request.Path = path;
        }
    }
}
