using System.Reflection;
using Owin;
using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin.Builder;

/// <summary>
/// Katana's pipeline builder: collects middleware, then <see cref="Build"/> chains them from last to first,
/// converting each component to the signature the one before it expects (AppFunc, <see cref="OwinMiddleware"/>,
/// or any registered conversion). The end of the pipeline answers 404.
/// </summary>
/// <remarks>Build runs once at startup; reflection happens there, never per request.</remarks>
public class AppBuilder : IAppBuilder
{
    private static readonly Func<IDictionary<string, object>, Task> NotFound = env =>
    {
        env[OwinKeys.ResponseStatusCode] = 404;
        return Task.CompletedTask;
    };

    private readonly List<(Type Signature, Func<object, object> Create, string Name)> _middleware = [];
    private readonly List<(Type From, Type To, Delegate Convert)> _conversions;

    /// <summary>Creates a builder with the AppFunc and OwinMiddleware conversions and a 404 default app.</summary>
    public AppBuilder()
    {
        _conversions = [];
        Properties = new Dictionary<string, object>(StringComparer.Ordinal);
        Properties[OwinKeys.BuilderAddSignatureConversion] = new Action<Delegate>(AddSignatureConversion);
        Properties[OwinKeys.BuilderDefaultApp] = NotFound;
        AddSignatureConversion(new Func<Func<IDictionary<string, object>, Task>, OwinMiddleware>(next => new AppFuncTransition(next)));
        AddSignatureConversion(new Func<OwinMiddleware, Func<IDictionary<string, object>, Task>>(middleware => new OwinMiddlewareTransition(middleware).Invoke));
    }

    private AppBuilder(List<(Type From, Type To, Delegate Convert)> conversions, IDictionary<string, object> properties)
    {
        _conversions = conversions;
        Properties = properties;
    }

    /// <inheritdoc />
    public IDictionary<string, object> Properties { get; }

    /// <inheritdoc />
    public IAppBuilder Use(object middleware, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        args ??= [];
        _middleware.Add(middleware switch
        {
            Delegate d => FromDelegate(d, args),
            Type t => FromType(t, args),
            _ => FromInstance(middleware, args),
        });
        return this;
    }

    /// <inheritdoc />
    public IAppBuilder New() => new AppBuilder(_conversions, Properties);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A component cannot be converted to the signature its neighbour needs (as Katana).</exception>
    public object Build(Type returnType)
    {
        ArgumentNullException.ThrowIfNull(returnType);
        var app = Properties.TryGetValue(OwinKeys.BuilderDefaultApp, out var defaultApp) && defaultApp is not null ? defaultApp : NotFound;
        for (var i = _middleware.Count - 1; i >= 0; i--)
        {
            var (signature, create, name) = _middleware[i];
            // As Katana: a component produces the signature it consumes (an AppFunc-taking class is an AppFunc).
            app = Convert(signature, create(Convert(signature, app, name)), name);
        }

        return Convert(returnType, app, "the pipeline");
    }

    /// <summary>Registers a conversion between component signatures: a delegate with one parameter (from) returning the other (to).</summary>
    public void AddSignatureConversion(Delegate conversion)
    {
        ArgumentNullException.ThrowIfNull(conversion);
        var invoke = conversion.GetType().GetMethod("Invoke")!;
        var parameters = invoke.GetParameters();
        if (parameters.Length != 1 || invoke.ReturnType == typeof(void))
        {
            throw new ArgumentException("A signature conversion takes one parameter and returns a value.", nameof(conversion));
        }

        _conversions.Add((parameters[0].ParameterType, invoke.ReturnType, conversion));
    }

    private static (Type, Func<object, object>, string) FromDelegate(Delegate middleware, object[] args)
    {
        var parameters = middleware.GetType().GetMethod("Invoke")!.GetParameters();
        if (parameters.Length != args.Length + 1)
        {
            throw new ArgumentException($"The middleware delegate {middleware.GetType()} takes {parameters.Length} parameters; Use gave the next component and {args.Length} more.", nameof(middleware));
        }

        var name = middleware.Method.DeclaringType?.FullName + "." + middleware.Method.Name;
        if (middleware is Func<Func<IDictionary<string, object>, Task>, Func<IDictionary<string, object>, Task>> appFuncMiddleware)
        {
            return (parameters[0].ParameterType, next => appFuncMiddleware((Func<IDictionary<string, object>, Task>)next), name);
        }

        return (parameters[0].ParameterType, next => Unwrap(() => middleware.DynamicInvoke([next, .. args]))!, name);
    }

    private static (Type, Func<object, object>, string) FromType(Type type, object[] args)
    {
        foreach (var constructor in type.GetConstructors())
        {
            var parameters = constructor.GetParameters();
            if (parameters.Length == args.Length + 1 && Accepts(parameters.AsSpan(1), args))
            {
                return (parameters[0].ParameterType, next => Unwrap(() => constructor.Invoke([next, .. args])), type.FullName!);
            }
        }

        throw new MissingMethodException($"{type.FullName} has no public constructor taking the next component and {args.Length} more argument(s) of the given types ({string.Join(", ", args.Select(a => a?.GetType().Name ?? "null"))}).");
    }

    private static (Type, Func<object, object>, string) FromInstance(object instance, object[] args)
    {
        var type = instance.GetType();
        var methods = type.GetMethods(BindingFlags.Instance | BindingFlags.Public);

        // Katana's instance pattern: Initialize(next, args...) once, then the object itself is the component.
        foreach (var method in methods)
        {
            var parameters = method.GetParameters();
            if (method.Name == "Initialize" && parameters.Length == args.Length + 1 && Accepts(parameters.AsSpan(1), args))
            {
                return (parameters[0].ParameterType, next =>
                {
                    Unwrap(() => method.Invoke(instance, [next, .. args]) ?? instance);
                    return instance;
                }, type.FullName!);
            }
        }

        // Katana's generator pattern: Invoke(next, args...) returns the component (e.g. AppFunc Invoke(AppFunc next)).
        foreach (var method in methods)
        {
            var parameters = method.GetParameters();
            if (method.Name == "Invoke" && method.ReturnType != typeof(void) && parameters.Length == args.Length + 1 && Accepts(parameters.AsSpan(1), args))
            {
                return (parameters[0].ParameterType, next => Unwrap(() => method.Invoke(instance, [next, .. args])), type.FullName + ".Invoke");
            }
        }

        throw new NotSupportedException($"{type.FullName} is not a middleware: pass a delegate, a type with a constructor (next, args...), or an object with Initialize(next, args...) and Invoke methods, or with an Invoke(next, args...) that returns the component.");
    }

    private static bool Accepts(ReadOnlySpan<ParameterInfo> parameters, object[] args)
    {
        for (var i = 0; i < parameters.Length; i++)
        {
            var type = parameters[i].ParameterType;
            if (args[i] is null ? type.IsValueType && Nullable.GetUnderlyingType(type) is null : !type.IsInstanceOfType(args[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static object Unwrap(Func<object?> call)
    {
        try
        {
            return call() ?? throw new InvalidOperationException("A middleware factory returned null.");
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private object Convert(Type signature, object app, string name)
    {
        if (signature.IsInstanceOfType(app))
        {
            return app;
        }

        if (app is Delegate d && typeof(Delegate).IsAssignableFrom(signature) && Delegate.CreateDelegate(signature, d.Target, d.Method, throwOnBindFailure: false) is { } rebound)
        {
            return rebound;
        }

        foreach (var (from, to, convert) in _conversions)
        {
            if (signature.IsAssignableFrom(to) && from.IsInstanceOfType(app))
            {
                return convert.DynamicInvoke(app)!;
            }
        }

        foreach (var (from, to, convert) in _conversions)
        {
            if (!from.IsInstanceOfType(app))
            {
                continue;
            }

            foreach (var (from2, to2, convert2) in _conversions)
            {
                if (signature.IsAssignableFrom(to2) && from2.IsAssignableFrom(to))
                {
                    return convert2.DynamicInvoke(convert.DynamicInvoke(app))!;
                }
            }
        }

        if (typeof(Delegate).IsAssignableFrom(signature))
        {
            var invoke = signature.GetMethod("Invoke")!;
            var method = app.GetType().GetMethod("Invoke", [.. invoke.GetParameters().Select(p => p.ParameterType)]);
            if (method is not null && invoke.ReturnType.IsAssignableFrom(method.ReturnType))
            {
                return Delegate.CreateDelegate(signature, app, method);
            }
        }

        throw new ArgumentException($"Building the OWIN pipeline: {name} needs a {signature}, but the next component is a {app.GetType()} and no signature conversion turns one into the other.", nameof(signature));
    }
}
