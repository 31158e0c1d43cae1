using System.Globalization;

namespace RocketOwin.Benchmarks;

/// <summary>
/// The upstream behind both proxies in the <c>proxy</c> runs: <c>/</c> answers the plaintext bytes
/// ("Hello, World!", text/plain, Content-Length 13), <c>/bytes/N</c> answers N bytes with a Content-Length
/// (written from one 64 KiB block, so the upstream itself stays small), <c>/sink</c> reads and discards the
/// request body and answers its length.
/// </summary>
internal sealed class ProxyUpstreamWorker : Worker
{
    private static readonly byte[] Hello = "Hello, World!"u8.ToArray();
    private static readonly byte[] Block = CreateBlock();

    protected override ValueTask HandleAsync(RequestContext context)
    {
        var path = context.Request.Path;
        if (path == "/")
        {
            context.Response.Headers.ContentType = "text/plain";
            context.Response.Write(Hello);
            return ValueTask.CompletedTask;
        }

        if (path.StartsWith("/bytes/", StringComparison.Ordinal)
            && long.TryParse(path.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return WriteBytesAsync(context.Response, count, context.RequestAborted);
        }

        if (path == "/sink")
        {
            return SinkAsync(context);
        }

        context.Response.StatusCode = 404;
        return ValueTask.CompletedTask;
    }

    private static byte[] CreateBlock()
    {
        var block = new byte[64 * 1024];
        block.AsSpan().Fill((byte)'x');
        return block;
    }

    private static async ValueTask WriteBytesAsync(Response response, long count, CancellationToken cancellationToken)
    {
        response.Headers.ContentType = "application/octet-stream";
        response.ContentLength = count;
        while (count > 0)
        {
            var n = (int)Math.Min(count, Block.Length);
            await response.WriteAsync(Block.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            count -= n;
        }
    }

    private static async ValueTask SinkAsync(RequestContext context)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await context.RequestBody.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            total += n;
        }

        context.Response.Headers.ContentType = "text/plain";
        context.Response.Write(System.Text.Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture)));
    }
}
