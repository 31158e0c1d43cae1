using Microsoft.Owin;

namespace KatanaPipeline;

/// <summary>Turns an exception from later components into a plain-text 500 page, as Katana's UseErrorPage did for apps.</summary>
public class ErrorPageMiddleware : OwinMiddleware
{
    private readonly string _application;

    /// <summary>Katana passes the next component, then the arguments given to Use.</summary>
    public ErrorPageMiddleware(OwinMiddleware next, string application)
        : base(next)
    {
        _application = application;
    }

    /// <inheritdoc />
    public override async Task Invoke(IOwinContext context)
    {
        try
        {
            await Next.Invoke(context);
        }
        catch (InvalidOperationException e)
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"{_application} error: {e.Message}");
        }
    }
}
