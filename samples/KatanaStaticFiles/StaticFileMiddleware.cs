using System.Globalization;
using Microsoft.Owin;

namespace KatanaStaticFiles;

/// <summary>
/// Serves GET and HEAD for files under a folder (a Katana-era hand-written file server): 404 for anything outside it,
/// a content type by extension, Last-Modified and If-Modified-Since (RFC 9110 §13.1.3), and the body through the
/// server's sendfile.SendAsync when it offers one.
/// </summary>
public class StaticFileMiddleware : OwinMiddleware
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css",
        [".js"] = "application/javascript",
        [".txt"] = "text/plain; charset=utf-8",
        [".png"] = "image/png",
    };

    private readonly string _root;

    /// <summary>Katana passes the next component, then the folder given to Use.</summary>
    public StaticFileMiddleware(OwinMiddleware next, string root)
        : base(next)
    {
        _root = Path.GetFullPath(root);
    }

    /// <inheritdoc />
    public override async Task Invoke(IOwinContext context)
    {
        var method = context.Request.Method;
        var relative = (context.Request.Path.Value ?? string.Empty).TrimStart('/');
        var full = Path.GetFullPath(Path.Combine(_root, relative));
        if ((method != "GET" && method != "HEAD") || !full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
        {
            await Next.Invoke(context);
            return;
        }

        var info = new FileInfo(full);
        var modified = new DateTimeOffset(info.LastWriteTimeUtc.Ticks - (info.LastWriteTimeUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        context.Response.Headers["Last-Modified"] = modified.ToString("r", CultureInfo.InvariantCulture);
        if (DateTimeOffset.TryParse(context.Request.Headers["If-Modified-Since"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since) && since >= modified)
        {
            context.Response.StatusCode = 304;
            return;
        }

        context.Response.ContentType = ContentTypes.TryGetValue(info.Extension, out var type) ? type : "application/octet-stream";
        context.Response.ContentLength = info.Length;
        if (method == "HEAD")
        {
            return;
        }

        if (context.Get<Func<string, long, long?, CancellationToken, Task>>("sendfile.SendAsync") is { } sendFile)
        {
            await sendFile(full, 0, info.Length, context.Request.CallCancelled);
            return;
        }

        using var stream = File.OpenRead(full);
        await stream.CopyToAsync(context.Response.Body, 81920, context.Request.CallCancelled);
    }
}
