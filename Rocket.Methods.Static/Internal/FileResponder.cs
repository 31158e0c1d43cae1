using System.Globalization;
using System.Text;
using NLog;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// Answers a GET or HEAD for one file entry: precompressed variant, validators, conditional requests,
/// ranges, then the body from memory (small files) or with sendfile.
/// </summary>
internal sealed class FileResponder(StaticOptions options, FileCache cache)
{
    /// <summary>Bodies up to this size are copied into the response buffer synchronously (the buffer is 16 KiB by default).</summary>
    private const int SyncWriteLimit = 16 * 1024;

    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Static");

    public ValueTask RespondAsync(RequestContext context, string requestPath, FileEntry entry, bool isHead)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = request.Headers;
        var file = entry;
        if (entry.Brotli is not null || entry.Gzip is not null)
        {
            // nginx's gzip_static + gzip_vary: caches must key on Accept-Encoding whenever a variant exists.
            response.Headers.Set("Vary", "Accept-Encoding");
            file = ChooseEncoding(headers, entry);
        }

        var status = Preconditions.Evaluate(headers, file);
        if (status == 412)
        {
            StatusBodies.Write(response, 412, isHead);
            return ValueTask.CompletedTask;
        }

        response.Headers.Set("ETag", file.ETag);
        response.Headers.Set("Last-Modified", file.LastModified);
        if (options.CacheControl is { } cacheControl)
        {
            response.Headers.Set("Cache-Control", cacheControl);
        }

        if (status == 304)
        {
            response.StatusCode = 304;
            return ValueTask.CompletedTask;
        }

        response.Headers.Set("Content-Type", file.ContentType);
        response.Headers.Set("Accept-Ranges", "bytes");
        if (file.ContentEncoding is { } encoding)
        {
            response.Headers.Set("Content-Encoding", encoding);
        }

        // RFC 9110 §14.2: GET is the only method with range semantics.
        if (!isHead && headers.TryGetValue("Range", out var range) && Preconditions.IfRangeAllows(headers, file))
        {
            switch (ByteRanges.Parse(range, file.Length, options.MaxRanges, out var ranges))
            {
                case RangeOutcome.Unsatisfiable:
                    response.Headers.Set("Content-Range", "bytes */" + file.LengthText);
                    StatusBodies.Write(response, 416, isHead);
                    return ValueTask.CompletedTask;
                case RangeOutcome.Single:
                    var (start, length) = ranges[0];
                    response.StatusCode = 206;
                    response.Headers.Set("Content-Range", ContentRange(start, length, file.Length));
                    response.Headers.Set("Content-Length", length.ToString(CultureInfo.InvariantCulture));
                    return BodyAsync(context, requestPath, file, start, length);
                case RangeOutcome.Multiple:
                    return MultipartAsync(context, requestPath, file, ranges);
            }
        }

        response.Headers.Set("Content-Length", file.LengthText);
        return isHead ? ValueTask.CompletedTask : BodyAsync(context, requestPath, file, 0, file.Length);
    }

    private static FileEntry ChooseEncoding(RequestHeaders headers, FileEntry entry)
    {
        if (headers.GetCombined("Accept-Encoding") is not { } accept)
        {
            return entry;
        }

        if (entry.Brotli is { } br && Accepts(accept, "br"))
        {
            return br;
        }

        return entry.Gzip is { } gz && Accepts(accept, "gzip") ? gz : entry;
    }

    /// <summary>True when the Accept-Encoding list names <paramref name="coding"/> without <c>q=0</c> (RFC 9110 §12.5.3).</summary>
    private static bool Accepts(string acceptEncoding, string coding)
    {
        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            var item = acceptEncoding.AsSpan(range).Trim();
            var semicolon = item.IndexOf(';');
            var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
            if (!name.Equals(coding, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (semicolon < 0)
            {
                return true;
            }

            var parameters = item[(semicolon + 1)..].Trim();
            return !(parameters.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                     && double.TryParse(parameters[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out var q) && q <= 0);
        }

        return false;
    }

    private static string ContentRange(long start, long length, long total)
        => string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{start + length - 1}/{total}");

    private ValueTask BodyAsync(RequestContext context, string requestPath, FileEntry file, long offset, long count)
    {
        if (file.Content is { } content)
        {
            if (count <= SyncWriteLimit)
            {
                context.Response.Write(content.AsSpan((int)offset, (int)count));
                return ValueTask.CompletedTask;
            }

            // Larger bodies go past the response buffer straight to the socket: asynchronously, so a client
            // whose window is full parks the request instead of blocking a worker thread.
            return context.Response.WriteAsync(content.AsMemory((int)offset, (int)count));
        }

        return SendFileAsync(context, requestPath, file, offset, count);
    }

    private async ValueTask SendFileAsync(RequestContext context, string requestPath, FileEntry file, long offset, long count)
    {
        try
        {
            await context.Response.SendFileAsync(file.PhysicalPath, offset, count, context.RequestAborted).ConfigureAwait(false);
        }
        catch (IOException) when (!FileStat.Of(file.PhysicalPath).Equals(file.Stat))
        {
            // The headers promised the old length; the core aborts the connection rather than pad or cut silently.
            Log.Warn("{0} changed while being sent ({1}); connection aborted.", file.PhysicalPath, requestPath);
            cache.Invalidate(requestPath);
            throw;
        }
    }

    private async ValueTask MultipartAsync(RequestContext context, string requestPath, FileEntry file, List<(long Start, long Length)> ranges)
    {
        var response = context.Response;
        var boundary = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var partHeads = new byte[ranges.Count][];
        long total = 0;
        for (var i = 0; i < ranges.Count; i++)
        {
            var (start, length) = ranges[i];
            partHeads[i] = Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Type: {file.ContentType}\r\nContent-Range: {ContentRange(start, length, file.Length)}\r\n\r\n");
            total += partHeads[i].Length + length + 2;
        }

        var closing = Encoding.ASCII.GetBytes($"--{boundary}--\r\n");
        total += closing.Length;
        response.StatusCode = 206;
        response.Headers.Set("Content-Type", "multipart/byteranges; boundary=" + boundary);
        response.Headers.Set("Content-Length", total.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < ranges.Count; i++)
        {
            response.Write(partHeads[i]);
            await BodyAsync(context, requestPath, file, ranges[i].Start, ranges[i].Length).ConfigureAwait(false);
            response.Write("\r\n"u8);
        }

        response.Write(closing);
    }
}
