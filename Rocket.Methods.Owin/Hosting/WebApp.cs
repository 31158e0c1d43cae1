using Owin;
using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin.Hosting;

/// <summary>
/// Katana's self-host entry point, served by Rocket: <c>using (WebApp.Start&lt;Startup&gt;("http://+:8080/")) { ... }</c>.
/// Each call starts a Rocket in the background with the owin method; disposing the result stops it.
/// </summary>
public static class WebApp
{
    /// <summary>Starts <paramref name="startup"/> on <paramref name="url"/>.</summary>
    public static IDisposable Start(string url, Action<IAppBuilder> startup) => Start(new StartOptions(url), startup);

    /// <summary>Starts <paramref name="startup"/> with <paramref name="options"/>.</summary>
    public static IDisposable Start(StartOptions options, Action<IAppBuilder> startup)
    {
        ArgumentNullException.ThrowIfNull(startup);
        return WebAppHost.Start(options, startup);
    }

    /// <summary>Starts the startup class <typeparamref name="TStartup"/> on <paramref name="url"/>.</summary>
    public static IDisposable Start<TStartup>(string url) => Start<TStartup>(new StartOptions(url));

    /// <summary>Starts the startup class <typeparamref name="TStartup"/> with <paramref name="options"/>.</summary>
    public static IDisposable Start<TStartup>(StartOptions options) => WebAppHost.Start(options, typeof(TStartup));

    /// <summary>Starts the startup named by <see cref="StartOptions.AppStartup"/>, or the one discovered in the entry assembly.</summary>
    public static IDisposable Start(StartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return WebAppHost.Start(options, options.AppStartup);
    }

    /// <summary>Starts the discovered startup on <paramref name="url"/>.</summary>
    public static IDisposable Start(string url) => Start(new StartOptions(url));
}
