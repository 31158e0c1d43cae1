using System.Text;

namespace RocketOwin.Tests.Support;

/// <summary>A worker from a lambda: the fixture apps (Echo, Throws, Slow, Huge) are one-liners over this.</summary>
public sealed class LambdaWorker(Func<RequestContext, ValueTask> handler) : Worker
{
    protected override ValueTask HandleAsync(RequestContext context) => handler(context);
}

public static class Apps
{
    public static readonly byte[] HelloBytes = "Hello, World!"u8.ToArray();

    public static LambdaWorker Hello() => new(c =>
    {
        c.Response.Headers.ContentType = "text/plain";
        c.Response.Write(HelloBytes);
        return ValueTask.CompletedTask;
    });

    public static LambdaWorker Echo() => new(async c =>
    {
        var ms = new MemoryStream();
        await c.RequestBody.CopyToAsync(ms);
        c.Response.Write(ms.ToArray());
    });

    /// <summary>
    /// Answers every request with <paramref name="body"/>; a request for <c>/slow</c> first sets <paramref name="entered"/> and
    /// blocks its thread until <paramref name="release"/> (at most 30 s): a request in flight for Stop and drain tests.
    /// </summary>
    public static LambdaWorker SlowPath(ManualResetEventSlim entered, ManualResetEventSlim release, Func<RequestContext, byte[]> body) => new(c =>
    {
        if (c.Request.Path == "/slow")
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30));
        }

        c.Response.Write(body(c));
        return ValueTask.CompletedTask;
    });

    /// <summary>Answers 101 with <c>Upgrade: <paramref name="protocol"/></c>, then echoes the upgraded stream's bytes until the client ends it.</summary>
    public static async ValueTask EchoUpgradeAsync(RequestContext c, string protocol)
    {
        c.Response.Headers.Set("Upgrade", protocol);
        c.Response.Headers.Set("Connection", "Upgrade");
        var stream = await c.UpgradeAsync();
        var buffer = new byte[64];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n));
        }
    }

    public static LambdaWorker Target() => new(c =>
    {
        c.Response.Write(Encoding.UTF8.GetBytes($"{c.Request.Method} {c.Request.Path} {c.Request.QueryString}"));
        return ValueTask.CompletedTask;
    });
}
