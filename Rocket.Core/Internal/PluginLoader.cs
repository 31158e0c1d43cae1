using System.Reflection;

namespace RocketOwin.Internal;

/// <summary>A method a plugin declares: its name (or alias), its declaration and the plugin's file.</summary>
internal sealed record PluginMethod(string Name, RocketMethodAttribute Attribute, Assembly Assembly, string File);

/// <summary>A plugin that could not be used: its file, why, and the method names it claimed (when known).</summary>
internal sealed record PluginProblem(string File, string Message, IReadOnlyList<string> Methods);

/// <summary>What one plugins folder holds.</summary>
internal sealed record PluginScan(string Directory, bool Exists, IReadOnlyList<PluginMethod> Methods, IReadOnlyList<PluginProblem> Problems);

/// <summary>
/// Loads the plugins of a folder laid out as <c>&lt;folder&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>, each into its own
/// <see cref="PluginLoadContext"/>, and reads their <see cref="RocketMethodAttribute"/>s. A plugin that fails is
/// reported as a <see cref="PluginProblem"/> and never stops the others from loading.
/// </summary>
/// <remarks>
/// Load contexts are not collectible, so each DLL is loaded once per process (per version of the file on disk)
/// and reused by every later scan and server.
/// </remarks>
internal static class PluginLoader
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<(string Path, DateTime Written), LoadResult> Cache = [];

    public static PluginScan Scan(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            return new PluginScan(full, false, [], []);
        }

        var methods = new List<PluginMethod>();
        var problems = new List<PluginProblem>();
        foreach (var folder in Directory.GetDirectories(full).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            var dll = Path.Combine(folder, name + ".dll");
            if (!File.Exists(dll))
            {
                problems.Add(new PluginProblem(folder, $"no {name}.dll in the folder (a plugin folder holds <Name>/<Name>.dll).", []));
                continue;
            }

            var result = Load(dll);
            methods.AddRange(result.Methods);
            problems.AddRange(result.Problems);
        }

        return new PluginScan(full, true, methods, problems);
    }

    private static LoadResult Load(string dll)
    {
        var key = (dll, File.GetLastWriteTimeUtc(dll));
        lock (Gate)
        {
            if (!Cache.TryGetValue(key, out var result))
            {
                result = LoadUncached(dll);
                Cache[key] = result;
            }

            return result;
        }
    }

    private static LoadResult LoadUncached(string dll)
    {
        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(dll).LoadFromAssemblyPath(dll);
        }
        catch (BadImageFormatException e)
        {
            return LoadResult.Failed(dll, $"not a .NET assembly ({e.Message})");
        }
        catch (Exception e) when (e is FileLoadException or IOException or UnauthorizedAccessException)
        {
            return LoadResult.Failed(dll, $"cannot be loaded: {e.Message}");
        }

        RocketMethodAttribute[] attributes;
        try
        {
            attributes = assembly.GetCustomAttributes<RocketMethodAttribute>().ToArray();
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return LoadResult.Failed(dll, $"its [assembly: RocketMethod] declarations cannot be read: {e.Message}");
        }

        if (attributes.Length == 0)
        {
            return LoadResult.Failed(dll, $"declares no method (add [assembly: RocketMethod(\"name\", typeof(MyWorker))] to {assembly.GetName().Name}).");
        }

        var methods = new List<PluginMethod>();
        var problems = new List<PluginProblem>();
        foreach (var attribute in attributes)
        {
            var names = new[] { attribute.Name }.Concat(attribute.Aliases).ToList();
            if (attribute.WorkerType is null || !typeof(Worker).IsAssignableFrom(attribute.WorkerType))
            {
                problems.Add(new PluginProblem(
                    dll,
                    $"method '{attribute.Name}' declares {attribute.WorkerType?.FullName ?? "no type"}, which does not derive from {typeof(Worker).FullName}.",
                    names));
                continue;
            }

            methods.AddRange(names.Select(n => new PluginMethod(n, attribute, assembly, dll)));
        }

        return new LoadResult(methods, problems);
    }

    private sealed record LoadResult(IReadOnlyList<PluginMethod> Methods, IReadOnlyList<PluginProblem> Problems)
    {
        public static LoadResult Failed(string file, string message) => new([], [new PluginProblem(file, message, [])]);
    }
}
