using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// Loads an application DLL (appInfo["app"]) the way OwinHost did, with one rule that matters here: the app goes
/// into the load context this assembly lives in (the owin plugin's, or the default one), so the IAppBuilder it was
/// compiled against is the very IAppBuilder we pass it. Its other dependencies come from its own folder (its
/// .deps.json when present).
/// </summary>
internal static class AppAssemblyLoader
{
    private static readonly ConcurrentDictionary<string, Assembly> Loaded = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">The file does not exist or is not a .NET assembly.</exception>
    public static Assembly Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw AppInfo.Invalid("app", path, $"the path of an application DLL ({full} does not exist)");
        }

        return Loaded.GetOrAdd(full, LoadNew);
    }

    private static Assembly LoadNew(string full)
    {
        var context = AssemblyLoadContext.GetLoadContext(typeof(AppAssemblyLoader).Assembly) ?? AssemblyLoadContext.Default;
        AssemblyName name;
        try
        {
            name = AssemblyName.GetAssemblyName(full);
        }
        catch (BadImageFormatException e)
        {
            throw AppInfo.Invalid("app", full, "a .NET assembly", e);
        }

        var existing = context.Assemblies.FirstOrDefault(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            return existing;
        }

        var folder = Path.GetDirectoryName(full)!;
        AssemblyDependencyResolver? resolver = null;
        try
        {
            resolver = new AssemblyDependencyResolver(full);
        }
        catch (InvalidOperationException)
        {
            // No usable .deps.json: fall back to probing the app's folder by file name.
        }

        Func<AssemblyLoadContext, AssemblyName, Assembly?> resolve = (ctx, requested) =>
        {
            var candidate = resolver?.ResolveAssemblyToPath(requested) ?? Path.Combine(folder, requested.Name + ".dll");
            return File.Exists(candidate) ? ctx.LoadFromAssemblyPath(candidate) : null;
        };
        context.Resolving += resolve;
        if (context.IsCollectible)
        {
            // A reloaded plugin's context (Rocket.Reload): once unloading, the context is held strongly until its code is
            // collected, and this handler is its code, so it must let go or the context never goes.
            context.Unloading += ctx => ctx.Resolving -= resolve;
        }

        return context.LoadFromAssemblyPath(full);
    }
}
