using System.Diagnostics;
using System.Globalization;
using Microsoft.Owin;

namespace KatanaStartup;

/// <summary>An OwinMiddleware class: adds X-Elapsed-Ms just before the headers are sent.</summary>
public class ElapsedHeaderMiddleware : OwinMiddleware
{
    /// <summary>Katana passes the next component.</summary>
    public ElapsedHeaderMiddleware(OwinMiddleware next)
        : base(next)
    {
    }

    /// <inheritdoc />
    public override Task Invoke(IOwinContext context)
    {
        var started = Stopwatch.GetTimestamp();
        context.Response.OnSendingHeaders(
            state => ((IOwinContext)state).Response.Headers["X-Elapsed-Ms"] = Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture),
            context);
        return Next.Invoke(context);
    }
}
