namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// Extension -> Content-Type: a built-in table of the web's common types, extended by a mime.types file
/// (Debian's /etc/mime.types format, as nginx and Python read it) and by appInfo entries, in that order
/// of precedence (appInfo wins). Text types get <c>charset=utf-8</c>.
/// </summary>
internal sealed class MimeTypes
{
    private static readonly (string Type, string Extensions)[] BuiltIn =
    [
        ("text/html", "html htm shtml"),
        ("text/css", "css"),
        ("text/javascript", "js mjs cjs"),
        ("application/json", "json map"),
        ("application/ld+json", "jsonld"),
        ("application/manifest+json", "webmanifest"),
        ("text/plain", "txt text log conf ini"),
        ("text/markdown", "md markdown"),
        ("text/csv", "csv"),
        ("text/xml", "xml"),
        ("application/xhtml+xml", "xhtml"),
        ("application/rss+xml", "rss"),
        ("application/atom+xml", "atom"),
        ("text/calendar", "ics"),
        ("text/vtt", "vtt"),
        ("image/svg+xml", "svg"),
        ("image/png", "png"),
        ("image/jpeg", "jpg jpeg jpe jfif"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
        ("image/avif", "avif"),
        ("image/x-icon", "ico"),
        ("image/bmp", "bmp"),
        ("image/tiff", "tif tiff"),
        ("font/woff", "woff"),
        ("font/woff2", "woff2"),
        ("font/ttf", "ttf"),
        ("font/otf", "otf"),
        ("application/vnd.ms-fontobject", "eot"),
        ("application/pdf", "pdf"),
        ("application/wasm", "wasm"),
        ("video/mp4", "mp4 m4v"),
        ("video/webm", "webm"),
        ("video/ogg", "ogv"),
        ("video/quicktime", "mov"),
        ("audio/mpeg", "mp3"),
        ("audio/ogg", "ogg oga opus"),
        ("audio/wav", "wav"),
        ("audio/flac", "flac"),
        ("audio/aac", "aac"),
        ("audio/mp4", "m4a"),
        ("application/zip", "zip"),
        ("application/gzip", "gz tgz"),
        ("application/x-tar", "tar"),
        ("application/x-bzip2", "bz2"),
        ("application/x-xz", "xz"),
        ("application/zstd", "zst"),
        ("application/x-7z-compressed", "7z"),
        ("application/octet-stream", "bin exe dll iso img deb rpm"),
        ("application/xml", "xsl xslt"),
        ("application/yaml", "yaml yml"),
        ("application/toml", "toml"),
        ("application/rtf", "rtf"),
        ("application/msword", "doc"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("application/vnd.ms-excel", "xls"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("application/vnd.ms-powerpoint", "ppt"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
        ("application/epub+zip", "epub"),
    ];

    private readonly Dictionary<string, string> _byExtension = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Builds the table: built-in, then <paramref name="mimeTypesFile"/>, then <paramref name="overrides"/>.</summary>
    /// <exception cref="IOException">The mime.types file cannot be read.</exception>
    public MimeTypes(string defaultType, string? mimeTypesFile, IEnumerable<KeyValuePair<string, string>> overrides)
    {
        DefaultType = WithCharset(defaultType);
        foreach (var (type, extensions) in BuiltIn)
        {
            foreach (var ext in extensions.Split(' '))
            {
                _byExtension[ext] = WithCharset(type);
            }
        }

        if (mimeTypesFile is not null)
        {
            foreach (var (ext, type) in ParseMimeTypesFile(File.ReadLines(mimeTypesFile)))
            {
                _byExtension[ext] = WithCharset(type);
            }
        }

        foreach (var (ext, type) in overrides)
        {
            _byExtension[ext.TrimStart('.')] = WithCharset(type);
        }
    }

    /// <summary>The type of files whose extension is unknown (with its charset when it is text).</summary>
    public string DefaultType { get; }

    /// <summary>The Content-Type for a file name (the part after its last dot).</summary>
    public string For(string fileName)
    {
        var slash = fileName.LastIndexOf('/');
        var dot = fileName.LastIndexOf('.');
        if (dot <= slash + 1 || dot == fileName.Length - 1)
        {
            return DefaultType;
        }

        var lookup = _byExtension.GetAlternateLookup<ReadOnlySpan<char>>();
        return lookup.TryGetValue(fileName.AsSpan(dot + 1), out var type) ? type : DefaultType;
    }

    /// <summary>Reads the mime.types format: <c>type ext1 ext2 ...</c> per line, <c>#</c> comments; later lines win.</summary>
    public static IEnumerable<(string Extension, string Type)> ParseMimeTypesFile(IEnumerable<string> lines)
    {
        foreach (var raw in lines)
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? raw[..hash] : raw;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !fields[0].Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            // nginx's mime.types syntax ("types { text/html html; }") ends entries with ';': accept it too.
            for (var i = 1; i < fields.Length; i++)
            {
                var ext = fields[i].TrimEnd(';');
                if (ext.Length > 0)
                {
                    yield return (ext, fields[0]);
                }
            }
        }
    }

    /// <summary>Adds <c>; charset=utf-8</c> to text types that carry no parameters yet.</summary>
    public static string WithCharset(string type)
    {
        type = type.Trim();
        if (type.Contains(';', StringComparison.Ordinal) || !IsText(type))
        {
            return type;
        }

        return type + "; charset=utf-8";
    }

    private static bool IsText(string type)
        => type.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
           || type.EndsWith("+xml", StringComparison.OrdinalIgnoreCase)
           || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
           || type.Equals("application/javascript", StringComparison.OrdinalIgnoreCase)
           || type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
           || type.Equals("application/xml", StringComparison.OrdinalIgnoreCase)
           || type.Equals("application/yaml", StringComparison.OrdinalIgnoreCase)
           || type.Equals("application/toml", StringComparison.OrdinalIgnoreCase);
}
