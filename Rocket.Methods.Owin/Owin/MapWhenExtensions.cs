using Microsoft.Owin;
using Microsoft.Owin.Mapping;

namespace Owin;

/// <summary>Katana's <c>MapWhen</c> and <c>MapWhenAsync</c>: branch on a predicate.</summary>
public static class MapWhenExtensions
{
    /// <summary>Sends requests for which <paramref name="predicate"/> is true to the branch.</summary>
    public static IAppBuilder MapWhen(this IAppBuilder app, Func<IOwinContext, bool> predicate, Action<IAppBuilder> configuration)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(configuration);
        var branch = app.New();
        configuration(branch);
        return app.Use<MapWhenMiddleware>(new MapWhenOptions { Predicate = predicate, Branch = branch.Build() });
    }

    /// <summary>Sends requests for which <paramref name="predicate"/> completes true to the branch.</summary>
    public static IAppBuilder MapWhenAsync(this IAppBuilder app, Func<IOwinContext, Task<bool>> predicate, Action<IAppBuilder> configuration)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(configuration);
        var branch = app.New();
        configuration(branch);
        return app.Use<MapWhenMiddleware>(new MapWhenOptions { PredicateAsync = predicate, Branch = branch.Build() });
    }
}
