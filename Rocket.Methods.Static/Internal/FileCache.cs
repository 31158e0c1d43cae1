using System.Collections.Concurrent;
using NLog;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// Resolves request paths to <see cref="FileEntry"/>s and keeps them for <see cref="StaticOptions.CacheTtl"/>,
/// so a hot file costs a dictionary lookup instead of realpath + statx + open. Bounded: at most
/// <see cref="MaxEntries"/> entries and <see cref="StaticOptions.MemoryCacheSize"/> bytes of content.
/// </summary>
/// <remarks>
/// Only clean paths (no empty segments) are cached, so "//a", "///a"... cannot flood it. Failures are not
/// cached. A cached entry holds the resolved path, so a symlink swapped while the entry lives still
/// serves the old target inside the root, never a new one outside.
/// </remarks>
internal sealed class FileCache
{
    public const int MaxEntries = 10_000;

    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Static");

    private readonly ConcurrentDictionary<string, FileEntry> _entries = new(StringComparer.Ordinal);
    private readonly StaticOptions _options;
    private readonly string _root;
    private readonly long _ttlMs;
    private long _contentBytes;

    public FileCache(StaticOptions options)
    {
        _options = options;
        _root = options.DocumentRoot;
        _ttlMs = (long)options.CacheTtl.TotalMilliseconds;
    }

    /// <summary>The entry for a request path already passed by <see cref="SafePath.Check"/>, or why there is none.</summary>
    public LookupFailure Lookup(string requestPath, out FileEntry? entry)
    {
        var now = Environment.TickCount64;
        _entries.TryGetValue(requestPath, out var cached);
        // Within the TTL an entry is trusted, except that a file sent from disk is checked first: a file that changed
        // size since would get a Content-Length it cannot fill, and the client a reset instead of an answer.
        if (cached is not null && now < cached.ExpiresAt && !cached.ChangedOnDisk())
        {
            entry = cached;
            return LookupFailure.None;
        }

        var cacheable = _ttlMs > 0 && !requestPath.Contains("//", StringComparison.Ordinal);
        var failure = Load(requestPath, cached, cacheable, out entry);
        if (entry is null || !cacheable)
        {
            if (cached is not null)
            {
                Forget(requestPath, cached);
            }

            return failure;
        }

        entry.ExpiresAt = now + _ttlMs;
        if (!ReferenceEquals(entry, cached))
        {
            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
                Interlocked.Exchange(ref _contentBytes, 0);
            }

            _entries[requestPath] = entry;
            Interlocked.Add(ref _contentBytes, entry.ContentBytes - (cached?.ContentBytes ?? 0));
        }

        return LookupFailure.None;
    }

    /// <summary>Drops the entry for <paramref name="requestPath"/> (the file was seen to change).</summary>
    public void Invalidate(string requestPath)
    {
        if (_entries.TryGetValue(requestPath, out var cached))
        {
            Forget(requestPath, cached);
        }
    }

    private void Forget(string requestPath, FileEntry cached)
    {
        if (_entries.TryRemove(new KeyValuePair<string, FileEntry>(requestPath, cached)))
        {
            Interlocked.Add(ref _contentBytes, -cached.ContentBytes);
        }
    }

    private LookupFailure Load(string requestPath, FileEntry? previous, bool keepContent, out FileEntry? entry)
    {
        entry = null;
        var relative = SafePath.Relative(requestPath);
        var candidate = relative.Length == 0 ? _root : _root + "/" + relative;
        var failure = Resolve(candidate, out var real, out var stat);
        if (failure != LookupFailure.None)
        {
            return failure;
        }

        if (stat.Kind == FileKind.Directory)
        {
            entry = new FileEntry(real, stat, string.Empty) { Index = FindIndex(real, keepContent, previous?.Index) };
            return LookupFailure.None;
        }

        return LoadFile(real, stat, _options.Mime.For(relative), previous, keepContent, out entry);
    }

    /// <summary>realpath + the root check + statx: everything that decides whether a path may be served.</summary>
    private LookupFailure Resolve(string candidate, out string real, out FileStat stat)
    {
        stat = default;
        real = SafePath.RealPath(candidate, out var errno) ?? string.Empty;
        if (real.Length == 0)
        {
            return errno == NativeMethods.EACCES ? LookupFailure.Forbidden : LookupFailure.NotFound;
        }

        if (!SafePath.IsUnder(real, _root))
        {
            if (!_options.FollowSymlinksOutsideRoot)
            {
                return LookupFailure.OutsideRoot;
            }
        }
        else if (!_options.ServeHidden && SafePath.HasHiddenSegmentBelow(real, _root))
        {
            return LookupFailure.NotFound; // a symlink inside the root pointing at .git is still .git
        }

        stat = FileStat.Of(real);
        return stat.Kind switch
        {
            FileKind.Regular or FileKind.Directory => LookupFailure.None,
            FileKind.Forbidden => LookupFailure.Forbidden,
            FileKind.Special => LookupFailure.NotRegular,
            _ => LookupFailure.NotFound,
        };
    }

    private FileEntry? FindIndex(string directory, bool keepContent, FileEntry? previous)
    {
        foreach (var name in _options.IndexFiles)
        {
            if (Resolve(directory + "/" + name, out var real, out var stat) == LookupFailure.None && stat.Kind == FileKind.Regular
                && LoadFile(real, stat, _options.Mime.For(name), previous, keepContent, out var index) == LookupFailure.None)
            {
                return index;
            }
        }

        return null;
    }

    private LookupFailure LoadFile(string real, FileStat stat, string contentType, FileEntry? previous, bool keepContent, out FileEntry? entry)
    {
        entry = null;
        byte[]? content;
        if (previous is not null && previous.SameFileAs(real, stat) && previous.Content is not null)
        {
            content = previous.Content; // unchanged: keep the bytes already in memory
        }
        else
        {
            var failure = ReadSmall(real, stat, keepContent, out content);
            if (failure != LookupFailure.None)
            {
                return failure;
            }
        }

        entry = new FileEntry(real, stat, contentType)
        {
            Content = content,
            Brotli = _options.Precompressed ? Variant(real, stat, ".br", "br", contentType, keepContent) : null,
            Gzip = _options.Precompressed ? Variant(real, stat, ".gz", "gzip", contentType, keepContent) : null,
        };
        return LookupFailure.None;
    }

    /// <summary>Opens the file once (so an unreadable one is a 403 before any header goes out) and reads it when small.</summary>
    private LookupFailure ReadSmall(string real, FileStat stat, bool keepContent, out byte[]? content)
    {
        content = null;
        try
        {
            using var handle = File.OpenHandle(real, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (!keepContent || stat.Length > _options.MemoryCacheMaxFileSize || Interlocked.Read(ref _contentBytes) + stat.Length > _options.MemoryCacheSize)
            {
                return LookupFailure.None;
            }

            var bytes = new byte[stat.Length];
            var read = 0;
            while (read < bytes.Length)
            {
                var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
                if (n == 0)
                {
                    return LookupFailure.None; // shrank since statx: leave it to sendfile, which checks again
                }

                read += n;
            }

            content = bytes;
            return LookupFailure.None;
        }
        catch (UnauthorizedAccessException)
        {
            return LookupFailure.Forbidden;
        }
        catch (FileNotFoundException)
        {
            return LookupFailure.NotFound;
        }
        catch (DirectoryNotFoundException)
        {
            return LookupFailure.NotFound;
        }
        catch (IOException e)
        {
            Log.Error(e, "Cannot read {0}", real);
            return LookupFailure.Unreadable;
        }
    }

    private FileEntry? Variant(string real, FileStat original, string extension, string encoding, string contentType, bool keepContent)
    {
        if (Resolve(real + extension, out var variantReal, out var stat) != LookupFailure.None
            || stat.Kind != FileKind.Regular
            || (stat.MtimeSeconds, stat.MtimeNanoseconds).CompareTo((original.MtimeSeconds, original.MtimeNanoseconds)) < 0
            || ReadSmall(variantReal, stat, keepContent, out var content) != LookupFailure.None)
        {
            return null; // missing, refused, or older than the file: it may be stale (nginx's gzip_static rule)
        }

        return new FileEntry(variantReal, stat, contentType) { Content = content }.AsVariant(encoding, contentType, "-" + encoding);
    }
}
