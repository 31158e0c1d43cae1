using System.Collections.Concurrent;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>
/// Rendered directory listings, kept for <see cref="StaticOptions.CacheTtl"/> while the directory's mtime stays
/// the same (adding, removing or renaming an entry changes it): a listing of thousands of entries is rendered
/// once per TTL, not once per request. Bounded by <see cref="MaxEntries"/> and <see cref="MaxBytes"/>.
/// </summary>
/// <remarks>Thread-safe. Sizes and dates of files inside the directory may be up to one TTL old, as file metadata is.</remarks>
internal sealed class ListingCache(TimeSpan ttl)
{
    public const int MaxEntries = 256;
    public const long MaxBytes = 32L * 1024 * 1024;

    private readonly ConcurrentDictionary<(string Directory, string RequestPath), Listing> _listings = new();
    private readonly long _ttlMs = (long)ttl.TotalMilliseconds;
    private long _bytes;

    /// <summary>The listing of <paramref name="directory"/> as requested by <paramref name="requestPath"/>, rendered by <paramref name="render"/> when not cached.</summary>
    public byte[] Get(string directory, string requestPath, Func<byte[]> render)
    {
        if (_ttlMs <= 0)
        {
            return render();
        }

        var key = (directory, requestPath);
        var now = Environment.TickCount64;
        var stat = FileStat.Of(directory);
        if (_listings.TryGetValue(key, out var cached) && now < cached.ExpiresAt && cached.Stat == stat)
        {
            return cached.Page;
        }

        var page = render();
        if (_listings.Count >= MaxEntries || Interlocked.Read(ref _bytes) + page.Length > MaxBytes)
        {
            _listings.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }

        var listing = new Listing(page, stat, now + _ttlMs);
        _listings.AddOrUpdate(key, listing, (_, _) => listing);
        Interlocked.Add(ref _bytes, page.Length - (cached?.Page.Length ?? 0));
        return page;
    }

    private sealed record Listing(byte[] Page, FileStat Stat, long ExpiresAt);
}
