using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using NLog;

namespace RocketOwin.Internal;

/// <summary>
/// Finds the worker for a method name, in this order: methods registered in code, methods declared with
/// <see cref="RocketMethodAttribute"/> by assemblies already loaded in the process, then by the assemblies the
/// application depends on (an app that references a method package or project: <see cref="DependencyMethods"/>,
/// read from metadata once and loaded only when asked for), then the plugins folder
/// (<c>&lt;plugins&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>).
/// </summary>
internal static class MethodRegistry
{
    private static readonly ConcurrentDictionary<string, Func<Worker>> Registered = new(StringComparer.OrdinalIgnoreCase);
    private static readonly Logger PluginErrors = RocketLog.Part("Plugins");

    public static void Register(string name, Func<Worker> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Registered[name] = factory;
    }

    public static bool Unregister(string name) => Registered.TryRemove(name, out _);

    /// <summary>Every method known in this process and the plugins folder, with where it came from and, for a broken one, why.</summary>
    public static IReadOnlyList<(string Name, string Source, string? Problem)> List(string? pluginsDirectory)
    {
        var result = new List<(string Name, string Source, string? Problem)>();
        result.AddRange(Registered.Keys.Order(StringComparer.OrdinalIgnoreCase).Select(k => (k, "registered in code", (string?)null)));
        foreach (var (name, attribute, assembly) in Declared())
        {
            result.Add((name, $"{attribute.WorkerType?.FullName} in {Describe(assembly)} (loaded in the process)", null));
        }

        var loaded = LoadedNames();
        foreach (var m in DependencyMethods.All.Where(m => !loaded.Contains(m.AssemblyName)))
        {
            result.Add((m.Name, $"{m.WorkerType} in {m.File} (a dependency of the application, not loaded yet)", null));
        }

        if (pluginsDirectory is not null)
        {
            var scan = PluginLoader.Scan(pluginsDirectory);
            var duplicates = Duplicates(scan);
            foreach (var m in scan.Methods)
            {
                result.Add((m.Name, $"{m.Attribute.WorkerType.FullName} in {m.File}", duplicates.TryGetValue(m.Name, out var d) ? d : null));
            }

            foreach (var p in scan.Problems)
            {
                result.Add((p.Methods.Count > 0 ? p.Methods[0] : "?", p.File, p.Message));
            }
        }

        return result;
    }

    /// <summary>
    /// The plugin file that serves <paramref name="name"/>, or null when a method registered in code, loaded in the
    /// process or found among the application's dependencies serves it (a reload then makes a new instance of the same code; only plugins are read from disk again).
    /// </summary>
    public static string? PluginFileFor(string name, string? pluginsDirectory)
    {
        if (Registered.ContainsKey(name) || Declared().Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            || DependencyMethods.All.Any(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) || pluginsDirectory is null)
        {
            return null;
        }

        return PluginLoader.Scan(pluginsDirectory).Methods.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))?.File;
    }

    /// <summary>Creates the worker of <paramref name="attribute"/> (declared by an assembly in <paramref name="location"/>).</summary>
    /// <exception cref="InvalidOperationException">The type is not a worker or its constructor failed; the message says which and why.</exception>
    public static Worker CreateDeclared(RocketMethodAttribute attribute, string location) => Instantiate(attribute, location);

    /// <summary>Creates the worker for <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No method has that name, its plugin is broken, two plugins claim it, or its worker could not be created; the message says which, where and why.</exception>
    public static Worker Create(string name, string? pluginsDirectory)
    {
        if (Registered.TryGetValue(name, out var factory))
        {
            return factory();
        }

        foreach (var (declared, attribute, assembly) in Declared())
        {
            if (string.Equals(declared, name, StringComparison.OrdinalIgnoreCase))
            {
                return Instantiate(attribute, Describe(assembly));
            }
        }

        var dependency = DependencyMethods.All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
        if (dependency is not null)
        {
            return FromDependency(name, dependency);
        }

        PluginScan? scan = pluginsDirectory is null ? null : PluginLoader.Scan(pluginsDirectory);
        if (scan is not null)
        {
            var matches = scan.Methods.Where(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (Duplicates(scan).TryGetValue(name, out var duplicate))
            {
                throw new InvalidOperationException($"method '{name}': {duplicate}");
            }

            if (matches.Count > 0)
            {
                foreach (var p in scan.Problems)
                {
                    PluginErrors.Warn("Plugin {0} was not loaded: {1}", p.File, p.Message);
                }

                return Instantiate(matches[0].Attribute, matches[0].File);
            }

            var broken = scan.Problems.FirstOrDefault(p => p.Methods.Contains(name, StringComparer.OrdinalIgnoreCase));
            if (broken is not null)
            {
                throw new InvalidOperationException($"method '{name}' in {broken.File}: {broken.Message}");
            }
        }

        throw new InvalidOperationException(UnknownMessage(name, pluginsDirectory, scan));
    }

    private static string UnknownMessage(string name, string? pluginsDirectory, PluginScan? scan)
    {
        var known = List(null).Select(m => m.Name)
            .Concat(scan?.Methods.Select(m => m.Name) ?? [])
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        var searched = $"methods registered in code, assemblies loaded in this process, {DependencyMethods.Source}";
        if (scan is not null)
        {
            searched += $", and the plugins folder {scan.Directory}{(scan.Exists ? string.Empty : " (which does not exist)")} for <Name>/<Name>.dll";
        }
        else if (pluginsDirectory is null)
        {
            searched += " (no plugins folder set)";
        }

        var message = $"method: no worker serves '{name}'. Searched {searched}. Methods found: {(known.Count == 0 ? "none" : string.Join(", ", known))}.";
        if (scan is { Problems.Count: > 0 })
        {
            message += " Plugins that failed to load: " + string.Join("; ", scan.Problems.Select(p => $"{p.File}: {p.Message}"));
        }

        return message;
    }

    /// <summary>Method names claimed by more than one plugin file, with a message naming every file.</summary>
    private static Dictionary<string, string> Duplicates(PluginScan scan)
        => scan.Methods
            .GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase)
            .Select(g => (g.Key, Files: g.Select(m => m.File).Distinct(StringComparer.Ordinal).ToList()))
            .Where(g => g.Files.Count > 1)
            .ToDictionary(
                g => g.Key,
                g => $"claimed by more than one plugin: {string.Join(" and ", g.Files)}; remove all but one.",
                StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads the declaring assembly into the default context (where the application's own references live).</summary>
    private static Worker FromDependency(string name, DependencyMethod dependency)
    {
        Assembly assembly;
        RocketMethodAttribute[] attributes;
        try
        {
            assembly = AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(dependency.AssemblyName));
            attributes = assembly.GetCustomAttributes<RocketMethodAttribute>().ToArray();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or TypeLoadException)
        {
            throw new InvalidOperationException($"method '{name}' in {dependency.File}: the assembly or its declaration cannot be loaded: {e.Message}", e);
        }

        var attribute = attributes.FirstOrDefault(a => new[] { a.Name }.Concat(a.Aliases).Contains(name, StringComparer.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"method '{name}' in {dependency.File}: declared in its metadata but not by the assembly that loaded ({Describe(assembly)}).");
        return Instantiate(attribute, Describe(assembly));
    }

    private static HashSet<string> LoadedNames()
        => AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && AssemblyLoadContext.GetLoadContext(a) is not PluginLoadContext)
            .Select(a => a.GetName().Name ?? string.Empty)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static Worker Instantiate(RocketMethodAttribute attribute, string location)
    {
        if (attribute.WorkerType is null || !typeof(Worker).IsAssignableFrom(attribute.WorkerType))
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: {attribute.WorkerType?.FullName ?? "no type"} does not derive from {typeof(Worker).FullName}.");
        }

        try
        {
            return (Worker)Activator.CreateInstance(attribute.WorkerType)!;
        }
        catch (TargetInvocationException e)
        {
            var cause = e.InnerException ?? e;
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: the constructor of {attribute.WorkerType.FullName} threw {cause.GetType().Name}: {cause.Message}", cause);
        }
        catch (MissingMethodException e)
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: {attribute.WorkerType.FullName} has no public parameterless constructor.", e);
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: {attribute.WorkerType.FullName} cannot be created: {e.Message}", e);
        }
    }

    private static string Describe(Assembly assembly)
        => string.IsNullOrEmpty(assembly.Location) ? assembly.GetName().Name ?? assembly.FullName ?? "?" : assembly.Location;

    /// <summary>Declarations of assemblies loaded in the process, leaving out plugins (those are found per plugins folder).</summary>
    private static IEnumerable<(string Name, RocketMethodAttribute Attribute, Assembly Assembly)> Declared()
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.IsDynamic || AssemblyLoadContext.GetLoadContext(assembly) is PluginLoadContext)
            {
                continue;
            }

            RocketMethodAttribute[] attributes;
            try
            {
                attributes = assembly.GetCustomAttributes<RocketMethodAttribute>().ToArray();
            }
            catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                continue;
            }

            foreach (var a in attributes)
            {
                yield return (a.Name, a, assembly);
                foreach (var alias in a.Aliases)
                {
                    yield return (alias, a, assembly);
                }
            }
        }
    }
}
