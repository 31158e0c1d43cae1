using Microsoft.Owin;
using Microsoft.Owin.Mapping;

namespace Owin;

/// <summary>Katana's <c>Map</c>: branch on a path prefix.</summary>
public static class MapExtensions
{
    /// <summary>Sends requests under <paramref name="pathMatch"/> (e.g. <c>/api</c>) to the branch built by <paramref name="configuration"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="pathMatch"/> is null (as Katana).</exception>
    /// <exception cref="ArgumentException">The path ends with '/'.</exception>
    public static IAppBuilder Map(this IAppBuilder app, string pathMatch, Action<IAppBuilder> configuration)
    {
        ArgumentNullException.ThrowIfNull(pathMatch);
        return Map(app, new PathString(pathMatch), configuration);
    }

    /// <summary>Sends requests under <paramref name="pathMatch"/> to the branch built by <paramref name="configuration"/>.</summary>
    /// <remarks>In the branch the prefix has moved from Path to PathBase; both are restored when it returns.</remarks>
    /// <exception cref="ArgumentException">The path ends with '/'.</exception>
    public static IAppBuilder Map(this IAppBuilder app, PathString pathMatch, Action<IAppBuilder> configuration)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(configuration);
        if (pathMatch.HasValue && pathMatch.Value!.EndsWith('/'))
        {
            throw new ArgumentException($"The path to map, '{pathMatch.Value}', must not end with '/'.", nameof(pathMatch));
        }

        var branch = app.New();
        configuration(branch);
        return app.Use<MapMiddleware>(new MapOptions { PathMatch = pathMatch, Branch = branch.Build() });
    }
}
