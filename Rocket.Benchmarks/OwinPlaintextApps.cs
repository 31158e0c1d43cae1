using Owin;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace RocketOwin.Benchmarks;

/// <summary>
/// The plaintext response written as an OWIN application: as a bare AppFunc, and as a Katana Startup
/// (<c>app.Run(ctx => ctx.Response.WriteAsync(...))</c>). Same bytes as <see cref="PlaintextWorker"/> and the Kestrel peer.
/// </summary>
internal static class OwinPlaintextApps
{
    private static readonly byte[] Body = "Hello, World!"u8.ToArray();
    private static readonly string[] TextPlain = ["text/plain"];

    public static AppFunc AppFunc => env =>
    {
        ((IDictionary<string, string[]>)env["owin.ResponseHeaders"])["Content-Type"] = TextPlain;
        return ((Stream)env["owin.ResponseBody"]).WriteAsync(Body, 0, Body.Length);
    };

    public static void Katana(IAppBuilder app) => app.Run(context =>
    {
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("Hello, World!");
    });

    /// <summary>appInfo for the "owin" method serving the given flavour.</summary>
    public static AppInfo For(string app) => app switch
    {
        "owin" => new AppInfo { ["owin_app"] = AppFunc },
        "katana" => new AppInfo { ["startup"] = (Action<IAppBuilder>)Katana },
        _ => throw new ArgumentOutOfRangeException(nameof(app), app, "expected owin or katana"),
    };
}
