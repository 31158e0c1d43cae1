using System.Globalization;
using NLog;
using RocketOwin;
using RocketOwin.Methods.Static;
using RocketOwin.Methods.Static.Internal;

// "fs" is the name Rocket (Python) gave this method; its appInfo keys document_root and display_index are kept.
[assembly: RocketMethod("static", typeof(StaticWorker), Aliases = ["fs"])]

namespace RocketOwin.Methods.Static;

/// <summary>
/// The <c>static</c> method (Rocket's <c>fs</c>): serves files from <c>document_root</c> with
/// Content-Type, validators, conditional and range requests, index files, an optional listing, and
/// precompressed siblings; never anything outside the root. See README.md for every appInfo key.
/// </summary>
/// <remarks>
/// One instance serves the whole server; <see cref="HandleAsync"/> runs concurrently. Small files are
/// answered from memory synchronously (no allocation on a cache hit); larger ones go out with sendfile(2)
/// on plain connections and a pooled copy on TLS.
/// </remarks>
public sealed class StaticWorker : Worker
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Static");

    private StaticOptions? _options;
    private FileCache? _cache;
    private FileResponder? _files;
    private ListingCache? _listings;

    /// <summary>The validated settings; available once the server started.</summary>
    public StaticOptions Options => _options ?? throw new InvalidOperationException("The static worker is not initialized yet.");

    /// <inheritdoc />
    /// <remarks>Every key README.md documents; any other key stops the server at start (a typo must not pass silently).</remarks>
    protected override IReadOnlyCollection<string> AppInfoKeys { get; } = ["document_root", "display_index", "index_files", "precompressed", "follow_symlinks_outside_root", "serve_hidden", "cache_ttl", "cache_control", "memory_cache_max_file_size", "memory_cache_size", "max_ranges", "mime_map", "mime_types", "default_type", "mime.*"];

    /// <inheritdoc/>
    protected override void Initialize()
    {
        _options = StaticOptions.From(AppInfo);
        _cache = new FileCache(_options);
        _files = new FileResponder(_options, _cache);
        _listings = new ListingCache(_options.CacheTtl);
        LogManager.GetLogger("Rocket").Info("static: serving {0} (display_index {1})", _options.DocumentRoot, _options.DisplayIndex);
    }

    /// <inheritdoc/>
    protected override ValueTask HandleAsync(RequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = _options!;
        var request = context.Request;
        var response = context.Response;
        var isHead = request.Method == "HEAD";
        if (!isHead && request.Method != "GET")
        {
            response.Headers.Set("Allow", "GET, HEAD");
            return Fail(context, 405, isHead, LogLevel.Debug, "method not allowed");
        }

        var path = request.Path;
        switch (SafePath.Check(path, request.RawPath, options.ServeHidden))
        {
            case PathVerdict.Invalid:
                return Fail(context, 400, isHead, LogLevel.Info, "path refused (dot segment, NUL, backslash or encoded slash)");
            case PathVerdict.Hidden:
                return Fail(context, 404, isHead, LogLevel.Debug, "hidden path");
        }

        var failure = _cache!.Lookup(path, out var entry);
        switch (failure)
        {
            case LookupFailure.NotFound:
                return Fail(context, 404, isHead, LogLevel.Debug, "not found");
            case LookupFailure.OutsideRoot:
                return Fail(context, 404, isHead, LogLevel.Warn, "symlink target outside document_root refused");
            case LookupFailure.Forbidden:
                return Fail(context, 403, isHead, LogLevel.Info, "permission denied");
            case LookupFailure.NotRegular:
                return Fail(context, 403, isHead, LogLevel.Info, "not a regular file");
            case LookupFailure.Unreadable:
                return Fail(context, 500, isHead, LogLevel.Error, "read error");
        }

        if (entry!.Kind != FileKind.Directory)
        {
            // "/file.txt/" names a directory that is not there (ENOTDIR), as nginx answers it.
            return path.EndsWith('/')
                ? Fail(context, 404, isHead, LogLevel.Debug, "not a directory")
                : _files!.RespondAsync(context, path, entry, isHead);
        }

        if (!path.EndsWith('/'))
        {
            Redirect(request, response);
            return ValueTask.CompletedTask;
        }

        if (entry.Index is { } index)
        {
            return _files!.RespondAsync(context, path, index, isHead);
        }

        if (!options.DisplayIndex)
        {
            // nginx answers a directory without index (autoindex off) the same way.
            return Fail(context, 403, isHead, LogLevel.Info, "directory without index file and display_index off");
        }

        byte[] page;
        try
        {
            page = _listings!.Get(entry.PhysicalPath, path, () => DirectoryListing.Render(entry.PhysicalPath, path, options.DocumentRoot, options));
        }
        catch (UnauthorizedAccessException)
        {
            return Fail(context, 403, isHead, LogLevel.Info, "directory cannot be listed (permission denied)");
        }
        catch (DirectoryNotFoundException)
        {
            return Fail(context, 404, isHead, LogLevel.Debug, "directory vanished");
        }

        response.Headers.Set("Content-Type", "text/html; charset=utf-8");
        response.Headers.Set("Content-Length", page.Length.ToString(CultureInfo.InvariantCulture));
        if (options.CacheControl is { } cacheControl)
        {
            response.Headers.Set("Cache-Control", cacheControl);
        }

        if (!isHead)
        {
            response.Write(page);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>RFC 9110 §15.4.2: a directory named without its trailing slash moves to the slash form, query kept.</summary>
    private static void Redirect(RequestHead request, Response response)
    {
        var raw = request.RawPath;

        // Collapsed slashes: "//host" in Location would be a protocol-relative URL, an open redirect.
        while (raw.Contains("//", StringComparison.Ordinal))
        {
            raw = raw.Replace("//", "/", StringComparison.Ordinal);
        }

        var location = request.QueryString.Length == 0 ? raw + "/" : raw + "/?" + request.QueryString;
        response.StatusCode = 301;
        response.Headers.Set("Location", location);
        response.Headers.Set("Content-Length", "0");
    }

    private static ValueTask Fail(RequestContext context, int status, bool isHead, LogLevel level, string why)
    {
        if (Log.IsEnabled(level))
        {
            Log.Log(level, "{0} {1} from {2}: {3} {4}", context.Request.Method, context.Request.Target, context.Connection.RemoteEndPoint, status, why);
        }

        StatusBodies.Write(context.Response, status, isHead);
        return ValueTask.CompletedTask;
    }
}
