using System.Reflection;
using System.Runtime.Loader;

namespace RocketOwin.Internal;

/// <summary>
/// The load context of one plugin: its own dependencies come from its folder (through its .deps.json),
/// while Rocket.Core, NLog and the shared framework always come from the default context, so the plugin's
/// <see cref="Worker"/> is the host's <see cref="Worker"/>.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly string? FrameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
    private readonly AssemblyDependencyResolver _resolver;

    /// <param name="pluginPath">The plugin's main DLL.</param>
    /// <param name="collectible">True for a reload's generation, unloaded when the next one replaces it.</param>
    public PluginLoadContext(string pluginPath, bool collectible = false)
        : base($"Rocket plugin {Path.GetFileNameWithoutExtension(pluginPath)}{(collectible ? " (reloaded)" : string.Empty)}", isCollectible: collectible)
    {
        PluginPath = pluginPath;
        _resolver = new AssemblyDependencyResolver(pluginPath);
    }

    /// <summary>The plugin's main DLL.</summary>
    public string PluginPath { get; }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (IsShared(assemblyName))
        {
            // Null falls back to the default context: one copy of the contract in the process.
            return null;
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    private static bool IsShared(AssemblyName name)
    {
        var simple = name.Name;
        if (simple is null)
        {
            return false;
        }

        if (simple is "Rocket.Core" or "NLog" or "netstandard" or "mscorlib")
        {
            return true;
        }

        // The shared framework stays shared even when a plugin carries a package copy of one of its assemblies
        // (System.Text.Json and the like), so framework types crossing the boundary keep one identity.
        // Any other library (a different Newtonsoft.Json in two plugins) is the plugin's own.
        return FrameworkDirectory is not null && File.Exists(Path.Combine(FrameworkDirectory, simple + ".dll"));
    }
}
