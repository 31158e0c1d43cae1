using System.Globalization;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// What the method knows about one resolved path: kind, size, validators and Content-Type, all rendered
/// once as the header strings sent with every response, plus the content of small files.
/// </summary>
/// <remarks>Immutable once published in the <see cref="FileCache"/> except <see cref="ExpiresAt"/>; shared by all threads.</remarks>
internal sealed class FileEntry
{
    private long _expiresAt;

    public FileEntry(string physicalPath, FileStat stat, string contentType)
    {
        PhysicalPath = physicalPath;
        Kind = stat.Kind;
        Length = stat.Length;
        Stat = stat;
        ContentType = contentType;
        LengthText = stat.Length.ToString(CultureInfo.InvariantCulture);
        LastModifiedValue = stat.LastModified;
        LastModified = LastModifiedValue.ToString("r", CultureInfo.InvariantCulture);

        // Strong validator from mtime (with nanoseconds) and size, nginx's "mtime-size" shape made finer.
        ETag = string.Create(CultureInfo.InvariantCulture, $"\"{stat.MtimeSeconds:x}{stat.MtimeNanoseconds:x8}-{stat.Length:x}\"");
    }

    /// <summary>The resolved path (symlinks followed, under the root unless configured otherwise): what is opened.</summary>
    public string PhysicalPath { get; }

    public FileKind Kind { get; }

    public FileStat Stat { get; }

    public long Length { get; }

    /// <summary>The Content-Length value, formatted once.</summary>
    public string LengthText { get; }

    public string ContentType { get; }

    public string ETag { get; private init; }

    /// <summary>The Last-Modified value (IMF-fixdate).</summary>
    public string LastModified { get; }

    public DateTimeOffset LastModifiedValue { get; }

    /// <summary>The whole file when it is small enough for the memory cache; null otherwise (sent with sendfile).</summary>
    public byte[]? Content { get; init; }

    /// <summary>Content-Encoding of this variant (br, gzip), or null for the file itself.</summary>
    public string? ContentEncoding { get; private init; }

    /// <summary>A precompressed <c>.br</c> sibling, not older than the file.</summary>
    public FileEntry? Brotli { get; init; }

    /// <summary>A precompressed <c>.gz</c> sibling, not older than the file.</summary>
    public FileEntry? Gzip { get; init; }

    /// <summary>For a directory: its first existing index file.</summary>
    public FileEntry? Index { get; init; }

    /// <summary>Bytes of content this entry (with its variants and index) holds in memory.</summary>
    public long ContentBytes => (Content?.Length ?? 0) + (Brotli?.ContentBytes ?? 0) + (Gzip?.ContentBytes ?? 0) + (Index?.ContentBytes ?? 0);

    /// <summary>Environment.TickCount64 after which the entry must be checked against the file system again.</summary>
    public long ExpiresAt
    {
        get => Volatile.Read(ref _expiresAt);
        set => Volatile.Write(ref _expiresAt, value);
    }

    /// <summary>
    /// True when a file this entry would send from disk (not from memory) no longer has the size and mtime it had:
    /// the headers it would promise are stale. One statx per such file; bytes held in memory cannot go stale.
    /// </summary>
    public bool ChangedOnDisk()
        => (Kind == FileKind.Regular && Content is null && FileStat.Of(PhysicalPath) != Stat)
           || (Index?.ChangedOnDisk() ?? false) || (Brotli?.ChangedOnDisk() ?? false) || (Gzip?.ChangedOnDisk() ?? false);

    /// <summary>True when the file system still shows the same file (path, size, mtime).</summary>
    public bool SameFileAs(string physicalPath, FileStat stat) => PhysicalPath == physicalPath && Stat == stat;

    /// <summary>This entry as the <paramref name="encoding"/> variant of a file with type <paramref name="contentType"/>.</summary>
    public FileEntry AsVariant(string encoding, string contentType, string suffix) => new(PhysicalPath, Stat, contentType)
    {
        Content = Content,
        ContentEncoding = encoding,
        ETag = ETag.Insert(ETag.Length - 1, suffix),
    };
}
