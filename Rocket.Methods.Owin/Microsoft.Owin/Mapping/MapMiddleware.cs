using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin.Mapping;

/// <summary>
/// Sends requests whose path starts with <see cref="MapOptions.PathMatch"/> to a branch, moving the prefix from
/// Path to PathBase for the branch and restoring both afterwards; other requests go on to the next component.
/// </summary>
/// <remarks>An AppFunc-shaped middleware, as Katana's: <c>new MapMiddleware(next, options)</c>, then <see cref="Invoke"/>.</remarks>
public class MapMiddleware
{
    private readonly Func<IDictionary<string, object>, Task> _next;
    private readonly MapOptions _options;

    /// <summary>Creates the middleware.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options have no branch.</exception>
    public MapMiddleware(Func<IDictionary<string, object>, Task> next, MapOptions options)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(options);
        _ = options.Branch ?? throw new ArgumentException("MapOptions.Branch is required.", nameof(options));
        _next = next;
        _options = options;
    }

    /// <summary>Runs the branch for a matching path, else the next component.</summary>
    public async Task Invoke(IDictionary<string, object> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var context = OwinEnvironment.ContextFor(environment);
        var path = context.Request.Path;
        if (!path.StartsWithSegments(_options.PathMatch, out var remaining))
        {
            await _next(environment).ConfigureAwait(false);
            return;
        }

        var pathBase = context.Request.PathBase;
        context.Request.PathBase = pathBase + _options.PathMatch;
        context.Request.Path = remaining;
        try
        {
            await _options.Branch!(environment).ConfigureAwait(false);
        }
        finally
        {
            context.Request.PathBase = pathBase;
            context.Request.Path = path;
        }
    }
}
