using Microsoft.Owin;
using Owin;

[assembly: OwinStartup(typeof(KatanaPipeline.Startup))]

namespace KatanaPipeline;

/// <summary>
/// A middleware pipeline as Katana apps wrote them, without authentication: an error page, a request id, a visit
/// cookie, a per-branch header, then the handlers. Each kind of component Katana's AppBuilder accepted appears once.
/// </summary>
public class Startup
{
    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
    {
        // An OwinMiddleware class with a constructor argument.
        app.Use<ErrorPageMiddleware>("KatanaPipeline");

        // A Func<AppFunc, AppFunc> delegate: raw OWIN, no Microsoft.Owin types.
        app.Use(RequestIdMiddleware.Create());

        // An inline (context, next) middleware using the cookie manager Katana's middleware shared.
        var cookies = app.GetDefaultChunkingCookieManager();
        app.Use(async (context, next) =>
        {
            var visits = int.TryParse(cookies.GetRequestCookie(context, "visits"), out var n) ? n + 1 : 1;
            cookies.AppendResponseCookie(context, "visits", visits.ToString(System.Globalization.CultureInfo.InvariantCulture), new CookieOptions { HttpOnly = true });
            context.Set("sample.Visits", visits);
            await next();
        });

        app.Map("/api", api =>
        {
            // An object with Invoke(next, args...) returning the component (Katana's "generator" pattern).
            api.Use(new HeaderMiddleware(), "X-Api-Version", "1");
            api.Run(context =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(
                    $"{{\"path\":\"{context.Request.Path}\",\"pathBase\":\"{context.Request.PathBase}\",\"visits\":{context.Get<int>("sample.Visits")},\"requestId\":\"{context.Response.Headers["X-Request-Id"]}\"}}");
            });
        });

        app.MapWhen(context => context.Request.Query["fail"] == "1", fail => fail.Run(_ => throw new InvalidOperationException("asked to fail")));

        app.Run(context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync($"Hello from a Katana-era pipeline (visit {context.Get<int>("sample.Visits")})");
        });
    }
}
