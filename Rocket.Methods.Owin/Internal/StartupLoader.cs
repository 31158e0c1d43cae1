using System.Reflection;
using Microsoft.Owin;
using Owin;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// Katana's Startup discovery: an <see cref="OwinStartupAttribute"/>, else a class named <c>&lt;Assembly&gt;.Startup</c>
/// or <c>Startup</c>; or a "Type[.Method], Assembly" string, or an attribute's friendly name. The configuration
/// method is <c>Configuration(IAppBuilder)</c> unless one is named, static or on an instance made with the
/// parameterless constructor.
/// </summary>
internal static class StartupLoader
{
    private const string DefaultMethod = "Configuration";

    /// <summary>Turns appInfo["startup"] (or nothing, with an app assembly) into the configuration action.</summary>
    /// <param name="startup">A Type, an Action&lt;IAppBuilder&gt;, a string, or null to discover.</param>
    /// <param name="searched">Where to look: the app's assembly, or the candidates for discovery.</param>
    /// <exception cref="InvalidOperationException">Nothing, or more than one thing, matches; the message names the assemblies and what was looked for.</exception>
    public static (Action<IAppBuilder> Configure, string Name) Resolve(object? startup, IReadOnlyList<Assembly> searched)
    {
        return startup switch
        {
            Action<IAppBuilder> action => (action, action.Method.DeclaringType?.FullName ?? "startup"),
            Type type => (ForType(type, DefaultMethod), type.FullName!),
            string text => FromString(text.Trim(), searched),
            _ => Discover(searched),
        };
    }

    /// <summary>The discovery rules, over <paramref name="assemblies"/>.</summary>
    public static (Action<IAppBuilder> Configure, string Name) Discover(IReadOnlyList<Assembly> assemblies)
    {
        var names = string.Join(", ", assemblies.Select(a => a.GetName().Name));
        var attributes = assemblies
            .SelectMany(a => StartupAttributes(a).Select(attr => (Attribute: attr, Assembly: a)))
            .Where(x => x.Attribute.FriendlyName.Length == 0)
            .ToList();
        if (attributes.Count > 1)
        {
            throw new InvalidOperationException(
                $"Two OWIN startups found in {names}: [assembly: OwinStartup] names {string.Join(" and ", attributes.Select(x => $"'{x.Attribute.StartupType.FullName}' ({x.Assembly.GetName().Name})"))}. "
                + "Give them friendly names and choose one with appInfo[\"startup\"].");
        }

        if (attributes.Count == 1)
        {
            var attribute = attributes[0].Attribute;
            return (ForType(attribute.StartupType, MethodOrDefault(attribute.MethodName)), attribute.StartupType.FullName!);
        }

        var found = new List<Type>();
        foreach (var assembly in assemblies)
        {
            foreach (var candidate in new[] { assembly.GetName().Name + ".Startup", "Startup" })
            {
                if (assembly.GetType(candidate, throwOnError: false) is { } type)
                {
                    found.Add(type);
                }
            }
        }

        return found.Count switch
        {
            1 => (ForType(found[0], DefaultMethod), found[0].FullName!),
            0 => throw new InvalidOperationException(
                $"No OWIN startup found in {(names.Length == 0 ? "no assemblies" : names)}: looked for an [assembly: OwinStartup(typeof(...))] attribute, then a class named '<AssemblyName>.Startup' or 'Startup'. "
                + "Add one of these, or set appInfo[\"startup\"] to a Type or a \"Namespace.Type[.Method], Assembly\" string."),
            _ => throw new InvalidOperationException(
                $"Two OWIN startups found in {names}: {string.Join(" and ", found.Select(t => $"'{t.FullName}' ({t.Assembly.GetName().Name})"))} both match the '<AssemblyName>.Startup' / 'Startup' convention. "
                + "Add [assembly: OwinStartup(typeof(...))] or set appInfo[\"startup\"] to choose one."),
        };
    }

    private static (Action<IAppBuilder>, string) FromString(string text, IReadOnlyList<Assembly> searched)
    {
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        var typeOrMethod = comma < 0 ? text : text[..comma].Trim();
        IReadOnlyList<Assembly> assemblies = comma < 0 ? searched : [LoadAssembly(text[(comma + 1)..].Trim(), searched)];
        var where = string.Join(", ", assemblies.Select(a => a.GetName().Name));

        if (comma < 0)
        {
            var named = assemblies
                .SelectMany(StartupAttributes)
                .Where(a => string.Equals(a.FriendlyName, text, StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (named.Count > 1)
            {
                throw new InvalidOperationException($"Two OWIN startups named '{text}' found in {where}.");
            }

            if (named.Count == 1)
            {
                return (ForType(named[0].StartupType, MethodOrDefault(named[0].MethodName)), named[0].StartupType.FullName!);
            }
        }

        foreach (var assembly in assemblies)
        {
            if (assembly.GetType(typeOrMethod, throwOnError: false) is { } type)
            {
                return (ForType(type, DefaultMethod), type.FullName!);
            }

            var dot = typeOrMethod.LastIndexOf('.');
            if (dot > 0 && assembly.GetType(typeOrMethod[..dot], throwOnError: false) is { } declaring)
            {
                return (ForType(declaring, typeOrMethod[(dot + 1)..]), declaring.FullName + "." + typeOrMethod[(dot + 1)..]);
            }
        }

        throw new InvalidOperationException(
            $"OWIN startup '{text}' not found in {(where.Length == 0 ? "no assemblies" : where)}: looked for an [assembly: OwinStartup] friendly name, a type '{typeOrMethod}', and a type and method '{typeOrMethod}'.");
    }

    private static Assembly LoadAssembly(string name, IReadOnlyList<Assembly> searched)
    {
        foreach (var assembly in searched.Concat(AppDomain.CurrentDomain.GetAssemblies()))
        {
            if (string.Equals(assembly.GetName().Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return assembly;
            }
        }

        try
        {
            return Assembly.Load(name);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new InvalidOperationException($"OWIN startup: assembly '{name}' could not be loaded: {e.Message}", e);
        }
    }

    /// <summary>
    /// The assembly's startup attributes: ours, and any other assembly's attribute class named OwinStartupAttribute
    /// with a StartupType property (Katana matches by name, so a copy of the attribute compiled elsewhere counts).
    /// </summary>
    private static IEnumerable<(Type StartupType, string FriendlyName, string MethodName)> StartupAttributes(Assembly assembly)
    {
        object[] attributes;
        try
        {
            attributes = assembly.GetCustomAttributes(inherit: false);
        }
        catch (Exception e) when (e is CustomAttributeFormatException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            // An attribute whose own assembly is missing cannot be a startup we could run.
            yield break;
        }

        foreach (var attribute in attributes)
        {
            var type = attribute.GetType();
            if (type.Name != nameof(OwinStartupAttribute)
                || type.GetProperty(nameof(OwinStartupAttribute.StartupType), typeof(Type))?.GetValue(attribute) is not Type startupType)
            {
                continue;
            }

            var friendlyName = type.GetProperty(nameof(OwinStartupAttribute.FriendlyName), typeof(string))?.GetValue(attribute) as string;
            var methodName = type.GetProperty(nameof(OwinStartupAttribute.MethodName), typeof(string))?.GetValue(attribute) as string;
            yield return (startupType, friendlyName ?? string.Empty, methodName ?? string.Empty);
        }
    }

    private static string MethodOrDefault(string name) => string.IsNullOrEmpty(name) ? DefaultMethod : name;

    private static string ForeignBuilderHint(Type type, string methodName)
    {
        var foreign = type.GetMethods().Any(m => m.Name == methodName && m.GetParameters().Length == 1 && m.GetParameters()[0].ParameterType.FullName == typeof(IAppBuilder).FullName);
        return foreign ? ": its IAppBuilder comes from another copy of Rocket.Methods.Owin (the app must load into the owin method's load context)." : ".";
    }

    private static Action<IAppBuilder> ForType(Type type, string methodName)
    {
        // Katana's three shapes: void M(IAppBuilder); object M(IDictionary<string, object> properties) and
        // object M(), whose result (usually an AppFunc) is the whole pipeline. The name ignores case, an exact match first.
        var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => string.Equals(m.Name, methodName, StringComparison.OrdinalIgnoreCase))
            .OrderBy(m => m.Name == methodName ? 0 : 1)
            .ToList();
        var builderMethod = candidates.FirstOrDefault(m => m.ReturnType == typeof(void) && m.GetParameters() is [{ } p] && p.ParameterType == typeof(IAppBuilder));
        if (builderMethod is not null)
        {
            return app => Invoke(type, builderMethod, [app]);
        }

        var appMethod = candidates.FirstOrDefault(m => m.ReturnType != typeof(void)
            && (m.GetParameters() is [] || (m.GetParameters() is [{ } p] && p.ParameterType == typeof(IDictionary<string, object>))));
        if (appMethod is not null)
        {
            return app =>
            {
                var pipeline = Invoke(type, appMethod, appMethod.GetParameters().Length == 0 ? [] : [app.Properties])
                    ?? throw new InvalidOperationException($"OWIN startup '{type.FullName}.{appMethod.Name}' returned null instead of an application.");
                app.Use(new Func<object, object>(_ => pipeline));
            };
        }

        throw new InvalidOperationException(
            $"OWIN startup class '{type.FullName}' in {type.Assembly.GetName().Name} has no public method '{methodName}(IAppBuilder)', "
            + $"'{methodName}(IDictionary<string, object>)' returning the application, or '{methodName}()' returning it" + ForeignBuilderHint(type, methodName));
    }

    private static object? Invoke(Type type, MethodInfo method, object?[] arguments)
    {
        object? instance = null;
        if (!method.IsStatic)
        {
            instance = Activator.CreateInstance(type)
                ?? throw new InvalidOperationException($"Could not create the OWIN startup class '{type.FullName}'.");
        }

        try
        {
            return method.Invoke(instance, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
