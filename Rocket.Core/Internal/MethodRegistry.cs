using System.Collections.Concurrent;
using System.Reflection;

namespace RocketOwin.Internal;

/// <summary>
/// Finds the worker for a method name: first methods registered in code, then methods declared with
/// <see cref="RocketMethodAttribute"/> by assemblies already loaded in the process.
/// </summary>
internal static class MethodRegistry
{
    private static readonly ConcurrentDictionary<string, Func<Worker>> Registered = new(StringComparer.OrdinalIgnoreCase);

    public static void Register(string name, Func<Worker> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Registered[name] = factory;
    }

    public static bool Unregister(string name) => Registered.TryRemove(name, out _);

    /// <summary>Every method name known in this process, with where it came from.</summary>
    public static IReadOnlyList<(string Name, string Source)> List()
    {
        var result = Registered.Keys.Select(k => (k, "registered in code")).ToList();
        foreach (var (name, attribute, assembly) in Declared())
        {
            result.Add((name, $"{attribute.WorkerType.FullName} in {assembly.GetName().Name}"));
        }

        return result;
    }

    /// <summary>Creates the worker for <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No method has that name, or its worker could not be created; the message says which and why.</exception>
    public static Worker Create(string name)
    {
        if (Registered.TryGetValue(name, out var factory))
        {
            return factory();
        }

        foreach (var (declared, attribute, assembly) in Declared())
        {
            if (string.Equals(declared, name, StringComparison.OrdinalIgnoreCase))
            {
                return Instantiate(attribute, assembly);
            }
        }

        var known = List().Select(m => m.Name).Distinct(StringComparer.OrdinalIgnoreCase).Order().ToList();
        throw new InvalidOperationException(
            $"method: no worker serves '{name}'. Methods found: {(known.Count == 0 ? "none" : string.Join(", ", known))} "
            + "(searched methods registered in code and assemblies loaded in this process).");
    }

    public static Worker Instantiate(RocketMethodAttribute attribute, Assembly assembly)
    {
        var location = string.IsNullOrEmpty(assembly.Location) ? assembly.GetName().Name : assembly.Location;
        if (!typeof(Worker).IsAssignableFrom(attribute.WorkerType))
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: {attribute.WorkerType.FullName} does not derive from {typeof(Worker).FullName}.");
        }

        try
        {
            return (Worker)Activator.CreateInstance(attribute.WorkerType)!;
        }
        catch (TargetInvocationException e)
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: the constructor of {attribute.WorkerType.FullName} threw: {e.InnerException?.Message}", e.InnerException ?? e);
        }
        catch (MissingMethodException e)
        {
            throw new InvalidOperationException($"method '{attribute.Name}' in {location}: {attribute.WorkerType.FullName} has no public parameterless constructor.", e);
        }
    }

    private static IEnumerable<(string Name, RocketMethodAttribute Attribute, Assembly Assembly)> Declared()
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.IsDynamic)
            {
                continue;
            }

            RocketMethodAttribute[] attributes;
            try
            {
                attributes = assembly.GetCustomAttributes<RocketMethodAttribute>().ToArray();
            }
            catch (Exception e) when (e is TypeLoadException or FileNotFoundException or BadImageFormatException)
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
