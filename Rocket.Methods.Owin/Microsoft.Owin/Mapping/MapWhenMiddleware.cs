using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin.Mapping;

/// <summary>Sends requests that pass a predicate to a branch; others go on to the next component.</summary>
/// <remarks>An AppFunc-shaped middleware, as Katana's: <c>new MapWhenMiddleware(next, options)</c>, then <see cref="Invoke"/>.</remarks>
public class MapWhenMiddleware
{
    private readonly Func<IDictionary<string, object>, Task> _next;
    private readonly MapWhenOptions _options;

    /// <summary>Creates the middleware.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options have no branch or no predicate.</exception>
    public MapWhenMiddleware(Func<IDictionary<string, object>, Task> next, MapWhenOptions options)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(options);
        _ = options.Branch ?? throw new ArgumentException("MapWhenOptions.Branch is required.", nameof(options));
        if (options.Predicate is null && options.PredicateAsync is null)
        {
            throw new ArgumentException("MapWhenOptions needs a Predicate or a PredicateAsync.", nameof(options));
        }

        _next = next;
        _options = options;
    }

    /// <summary>Runs the branch when the predicate holds, else the next component.</summary>
    public async Task Invoke(IDictionary<string, object> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var context = OwinEnvironment.ContextFor(environment);
        var matches = _options.Predicate is { } predicate
            ? predicate(context)
            : await _options.PredicateAsync!(context).ConfigureAwait(false);
        await (matches ? _options.Branch! : _next)(environment).ConfigureAwait(false);
    }
}
