using RocketOwin.Methods.Static.Internal;

namespace RocketOwin.Methods.Static;

/// <summary>The static method's settings, read from appInfo once at start and validated (see README.md for every key).</summary>
public sealed class StaticOptions
{
    /// <summary>Default for <see cref="IndexFiles"/>.</summary>
    public static readonly IReadOnlyList<string> DefaultIndexFiles = ["index.html"];

    private StaticOptions()
    {
    }

    /// <summary><c>document_root</c>: the directory served, fully resolved (no symlinks, no trailing slash).</summary>
    public string DocumentRoot { get; private init; } = string.Empty;

    /// <summary><c>display_index</c>: list directories without an index file (Rocket's key; default false).</summary>
    public bool DisplayIndex { get; private init; }

    /// <summary><c>index_files</c>: names tried, in order, when a directory is requested (default index.html).</summary>
    public IReadOnlyList<string> IndexFiles { get; private init; } = DefaultIndexFiles;

    /// <summary><c>cache_control</c>: the Cache-Control value sent with files; null sends none (the default).</summary>
    public string? CacheControl { get; private init; }

    /// <summary><c>precompressed</c>: serve <c>file.br</c> / <c>file.gz</c> to clients that accept them (default false).</summary>
    public bool Precompressed { get; private init; }

    /// <summary><c>follow_symlinks_outside_root</c>: serve symlinks whose target is outside the root (default false).</summary>
    public bool FollowSymlinksOutsideRoot { get; private init; }

    /// <summary><c>serve_hidden</c>: serve names starting with a dot (.git, .env); default false (404).</summary>
    public bool ServeHidden { get; private init; }

    /// <summary><c>cache_ttl</c>: seconds a file's metadata (and small content) is trusted before it is checked again; 0 checks every request. Default 1.</summary>
    public TimeSpan CacheTtl { get; private init; }

    /// <summary><c>memory_cache_max_file_size</c>: files up to this many bytes are kept in memory and written from there (default 64 KiB; 0 disables).</summary>
    public long MemoryCacheMaxFileSize { get; private init; }

    /// <summary><c>memory_cache_size</c>: total bytes of file content kept in memory (default 64 MiB).</summary>
    public long MemoryCacheSize { get; private init; }

    /// <summary><c>max_ranges</c>: most ranges answered as multipart/byteranges; more (or overlapping ones) get the whole file with 200. Default 16.</summary>
    public int MaxRanges { get; private init; }

    /// <summary>The Content-Type table (built-in, <c>mime_types</c> file, <c>mime_map</c> and <c>mime.EXT</c> keys).</summary>
    internal MimeTypes Mime { get; private init; } = null!;

    /// <summary>Reads and validates every key.</summary>
    /// <exception cref="ArgumentException">A key is missing or invalid; the message names it.</exception>
    public static StaticOptions From(AppInfo appInfo)
    {
        ArgumentNullException.ThrowIfNull(appInfo);
        return new StaticOptions
        {
            DocumentRoot = ResolveRoot(appInfo),
            DisplayIndex = appInfo.GetBoolean("display_index", false),
            IndexFiles = ReadIndexFiles(appInfo),
            CacheControl = ReadCacheControl(appInfo),
            Precompressed = appInfo.GetBoolean("precompressed", false),
            FollowSymlinksOutsideRoot = appInfo.GetBoolean("follow_symlinks_outside_root", false),
            ServeHidden = appInfo.GetBoolean("serve_hidden", false),
            CacheTtl = appInfo.GetDuration("cache_ttl", TimeSpan.FromSeconds(1)),
            MemoryCacheMaxFileSize = appInfo.GetInt64("memory_cache_max_file_size", 64 * 1024, 0, 1 << 30),
            MemoryCacheSize = appInfo.GetInt64("memory_cache_size", 64L * 1024 * 1024, 0, long.MaxValue),
            MaxRanges = (int)appInfo.GetInt64("max_ranges", 16, 1, 1000),
            Mime = ReadMime(appInfo),
        };
    }

    private static string ResolveRoot(AppInfo appInfo)
    {
        var root = appInfo.GetString("document_root");
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new ArgumentException(
                "The static method needs appInfo[\"document_root\"]: the directory to serve (rocket --root DIR).", nameof(appInfo));
        }

        var full = Path.GetFullPath(root);
        if (FileStat.Of(full).Kind != FileKind.Directory)
        {
            throw AppInfo.Invalid("document_root", root, $"an existing directory ('{full}' is not one)");
        }

        return SafePath.RealPath(full, out _) is { } real
            ? real.TrimEnd('/')
            : throw AppInfo.Invalid("document_root", root, "a directory whose path can be resolved");
    }

    private static string[] ReadIndexFiles(AppInfo appInfo)
    {
        var names = appInfo.GetList("index_files", DefaultIndexFiles);
        foreach (var name in names)
        {
            if (name is "." or ".." || name.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
            {
                throw AppInfo.Invalid("index_files", appInfo["index_files"], "plain file names (no slashes, not . or ..)");
            }
        }

        return [.. names];
    }

    private static string? ReadCacheControl(AppInfo appInfo)
    {
        var value = appInfo.GetString("cache_control");
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0
            ? value.Trim()
            : throw AppInfo.Invalid("cache_control", value, "a header value without CR, LF or NUL");
    }

    private static MimeTypes ReadMime(AppInfo appInfo)
    {
        var overrides = new List<KeyValuePair<string, string>>();
        foreach (var entry in appInfo.GetList("mime_map", []))
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == entry.Length - 1 || !entry[(eq + 1)..].Contains('/', StringComparison.Ordinal))
            {
                throw AppInfo.Invalid("mime_map", appInfo["mime_map"], "\"ext=type/subtype,...\" entries");
            }

            overrides.Add(new(entry[..eq].Trim(), entry[(eq + 1)..].Trim()));
        }

        foreach (var (key, value) in appInfo)
        {
            if (key.StartsWith("mime.", StringComparison.OrdinalIgnoreCase) && key.Length > 5)
            {
                var type = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
                if (type is null || !type.Contains('/', StringComparison.Ordinal) || type.AsSpan().IndexOfAny('\r', '\n') >= 0)
                {
                    throw AppInfo.Invalid(key, value, "a media type such as text/plain");
                }

                overrides.Add(new(key[5..], type));
            }
        }

        var defaultType = appInfo.GetString("default_type", "application/octet-stream")!;
        var file = appInfo.GetString("mime_types");
        try
        {
            return new MimeTypes(defaultType, string.IsNullOrWhiteSpace(file) ? null : file, overrides);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AppInfo.Invalid("mime_types", file, $"a readable mime.types file ({e.Message})", e);
        }
    }
}
