using Owin;

namespace HelloOwin;

/// <summary>What <c>rocket --method owin --app HelloOwin.dll</c> discovers: it serves the AppFunc as the whole pipeline.</summary>
public class Startup
{
    /// <summary>Katana's configuration method.</summary>
    public void Configuration(IAppBuilder app)
        => app.Use(new Func<Func<IDictionary<string, object>, Task>, Func<IDictionary<string, object>, Task>>(_ => HelloApp.Invoke));
}
