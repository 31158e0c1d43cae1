using Microsoft.Owin;
using Owin;

[assembly: OwinStartup(typeof(KatanaStartup.Startup))]

namespace KatanaStartup;

/// <summary>A Startup written the way Katana users wrote them; it compiles unchanged against Rocket.Methods.Owin.</summary>
public class Startup
{
    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
    {
        app.Use<ElapsedHeaderMiddleware>();

        app.Map("/api", api => api.Run(context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($"{{\"pathBase\":\"{context.Request.PathBase}\",\"path\":\"{context.Request.Path}\"}}");
        }));

        app.Map("/form", form => form.Run(async context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            if (context.Request.Method == "POST")
            {
                var fields = await context.Request.ReadFormAsync();
                await context.Response.WriteAsync("<p>Hello, " + System.Net.WebUtility.HtmlEncode(fields["name"] ?? "stranger") + "!</p>");
                return;
            }

            await context.Response.WriteAsync("<form method=\"post\"><input name=\"name\"><button>Send</button></form>");
        }));

        app.Map("/stream", stream => stream.Run(async context =>
        {
            context.Response.ContentType = "text/plain";
            for (var i = 1; i <= 5; i++)
            {
                await context.Response.WriteAsync($"line {i}\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(200, context.Request.CallCancelled);
            }
        }));

        app.Run(context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("Hello from a Katana Startup on Rocket.Owin");
        });
    }
}
