using System.Net;
using Microsoft.Owin;
using Owin;

namespace KatanaForms;

/// <summary>
/// Form handling as Katana apps did it: a GET shows the form, a POST is read with <c>ReadFormAsync</c>, validated,
/// and answered with a redirect (post/redirect/get) carrying a flash message in a cookie; the result page reads the
/// query string. Found by convention: a class named <c>Startup</c>.
/// </summary>
public class Startup
{
    private const string FlashCookie = "flash";

    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
    {
        app.Map("/guestbook", guestbook => guestbook.Run(async context =>
        {
            if (context.Request.Method == "POST")
            {
                await Post(context);
                return;
            }

            await Page(context);
        }));

        app.Run(context =>
        {
            context.Response.Redirect(context.Request.PathBase + "/guestbook");
            return Task.CompletedTask;
        });
    }

    private static async Task Post(IOwinContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var name = form["name"]?.Trim() ?? string.Empty;
        var tags = form.GetValues("tag") ?? [];
        if (name.Length == 0)
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<p>Please give your name.</p>");
            return;
        }

        context.Response.Cookies.Append(FlashCookie, $"Thanks, {name}!", new CookieOptions { Path = context.Request.PathBase.Value, HttpOnly = true });
        var query = QueryString.Create("name", name);
        context.Response.Redirect(context.Request.PathBase + "/signed" + query + "&tags=" + Uri.EscapeDataString(string.Join(",", tags)));
    }

    private static async Task Page(IOwinContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        if (context.Request.Path.StartsWithSegments(new PathString("/signed")))
        {
            var flash = context.Request.Cookies[FlashCookie];
            if (flash is not null)
            {
                context.Response.Cookies.Delete(FlashCookie, new CookieOptions { Path = context.Request.PathBase.Value });
            }

            await context.Response.WriteAsync(
                $"<p>{WebUtility.HtmlEncode(flash ?? string.Empty)}</p><p>Signed by {WebUtility.HtmlEncode(context.Request.Query["name"])} ({WebUtility.HtmlEncode(context.Request.Query["tags"])})</p>");
            return;
        }

        await context.Response.WriteAsync(
            "<form method=\"post\"><input name=\"name\"><label><input type=\"checkbox\" name=\"tag\" value=\"owin\">OWIN</label>"
            + "<label><input type=\"checkbox\" name=\"tag\" value=\"katana\">Katana</label><button>Sign</button></form>");
    }
}
