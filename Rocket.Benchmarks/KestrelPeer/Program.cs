// The Kestrel peer for side-by-side runs: the same response bytes as Rocket's PlaintextWorker
// ("Hello, World!", Content-Type text/plain, Content-Length 13). Usage: KestrelPeer 127.0.0.1:PORT
// Kestrel's own defaults are kept on purpose (Server GC from the Web SDK, no inline socket completions):
// the comparison is against Kestrel as people ship it.

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: KestrelPeer 127.0.0.1:PORT");
    return 2;
}

var url = args[0].StartsWith("http://", StringComparison.Ordinal) ? args[0] : "http://" + args[0];
var body = "Hello, World!"u8.ToArray();

var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls(url);

var app = builder.Build();
app.Run(context =>
{
    context.Response.StatusCode = StatusCodes.Status200OK;
    context.Response.ContentType = "text/plain";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
});
app.Run();
return 0;
