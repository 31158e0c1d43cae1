using Microsoft.Owin;
using Microsoft.Owin.Extensions;

namespace Owin;

/// <summary>Katana's <c>Use&lt;T&gt;</c>, <c>Use(handler)</c> and <c>Run</c>.</summary>
public static class AppBuilderUseExtensions
{
    /// <summary>Adds a middleware type whose constructor takes the next component and <paramref name="args"/>.</summary>
    public static IAppBuilder Use<T>(this IAppBuilder app, params object[] args)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(typeof(T), args);
    }

    /// <summary>Adds an inline middleware: <c>app.Use(async (context, next) =&gt; { ...; await next(); })</c>.</summary>
    public static IAppBuilder Use(this IAppBuilder app, Func<IOwinContext, Func<Task>, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(handler);
        return app.Use(typeof(UseHandlerMiddleware), handler);
    }

    /// <summary>Ends the pipeline with <paramref name="handler"/>; components added after it never run.</summary>
    public static void Run(this IAppBuilder app, Func<IOwinContext, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(handler);
        app.Use(typeof(UseHandlerMiddleware), handler);
    }
}
