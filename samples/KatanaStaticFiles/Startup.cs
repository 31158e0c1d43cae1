using Microsoft.Owin;
using Owin;

[assembly: OwinStartup("static", typeof(KatanaStaticFiles.Startup))]

namespace KatanaStaticFiles;

/// <summary>
/// Static content under <c>Map("/static")</c>, as Katana apps served it before (or instead of) Microsoft.Owin.StaticFiles:
/// files from the <c>wwwroot</c> folder next to this DLL, with a content type, Last-Modified and 304s, and a page at
/// the root that links to them. Chosen by its friendly name: <c>--set startup=static</c>.
/// </summary>
public class Startup
{
    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
    {
        var root = Path.Combine(Path.GetDirectoryName(typeof(Startup).Assembly.Location)!, "wwwroot");
        app.Map("/static", files => files.Use<StaticFileMiddleware>(root));
        app.Run(context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync("<link rel=\"stylesheet\" href=\"static/css/site.css\"><p>Static files from the Katana era.</p>");
        });
    }
}
