using System.Globalization;

namespace Microsoft.Owin.Infrastructure;

/// <summary>
/// An <see cref="ICookieManager"/> that splits a cookie too large for one Set-Cookie into chunks, in Katana's
/// format: <c>name=chunks:3</c>, then <c>nameC1=...</c>, <c>nameC2=...</c>, <c>nameC3=...</c> with the same
/// attributes; reading joins them back.
/// </summary>
/// <remarks>4090 bytes per Set-Cookie by default leaves room under browsers' 4096-byte limit per cookie (RFC 6265 §6.1).</remarks>
public class ChunkingCookieManager : ICookieManager
{
    private const string ChunksPrefix = "chunks:";

    // The smallest chunk worth sending: "C" plus a chunk number plus some data.
    private const int MinimumChunkData = 10;

    // Room kept in each chunk for its "C<n>" suffix to the name.
    private const int ChunkIdBudget = 3;

    /// <summary>Chunks at 4090 characters and throws on a cookie with missing chunks.</summary>
    public ChunkingCookieManager()
    {
        ChunkSize = 4090;
        ThrowForPartialCookies = true;
    }

    /// <summary>The largest Set-Cookie value (name, value and attributes) before chunking; null never chunks.</summary>
    public int? ChunkSize { get; set; }

    /// <summary>Throw <see cref="FormatException"/> when a chunked request cookie lacks a chunk (else return it unjoined).</summary>
    public bool ThrowForPartialCookies { get; set; }

    /// <inheritdoc />
    /// <exception cref="FormatException">A chunk is missing and <see cref="ThrowForPartialCookies"/> is set.</exception>
    public string? GetRequestCookie(IOwinContext context, string key)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cookies = context.Request.Cookies;
        var value = cookies[key];
        var count = ChunkCount(value);
        if (count == 0)
        {
            return value;
        }

        var chunks = new string[count];
        var quoted = false;
        for (var i = 1; i <= count; i++)
        {
            var chunk = cookies[key + "C" + i.ToString(CultureInfo.InvariantCulture)];
            if (chunk is null)
            {
                if (ThrowForPartialCookies)
                {
                    var received = chunks.Take(i - 1).Sum(c => c.Length);
                    throw new FormatException($"The chunked cookie '{key}' is incomplete: {i - 1} of {count} chunks found ({received} characters).");
                }

                return value;
            }

            if (IsQuoted(chunk))
            {
                quoted = true;
                chunk = chunk[1..^1];
            }

            chunks[i - 1] = chunk;
        }

        var joined = string.Concat(chunks);
        return quoted ? "\"" + joined + "\"" : joined;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException"><see cref="ChunkSize"/> leaves no room for data next to the name and attributes.</exception>
    public void AppendResponseCookie(IOwinContext context, string key, string? value, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);

        var name = Uri.EscapeDataString(key);
        var attributes = ResponseCookieCollection.Attributes(options);
        value ??= string.Empty;
        var quoted = IsQuoted(value);
        var escaped = Uri.EscapeDataString(quoted ? value[1..^1] : value);
        var quotes = quoted ? 2 : 0;
        var fixedLength = name.Length + 1 + attributes.Length + quotes;
        var headers = context.Response.Headers;

        if (ChunkSize is not { } size || size > fixedLength + escaped.Length)
        {
            headers.AppendValues("Set-Cookie", name + "=" + Quote(escaped, quoted) + attributes);
            return;
        }

        if (size < fixedLength + MinimumChunkData)
        {
            throw new InvalidOperationException($"ChunkingCookieManager.ChunkSize {size} leaves no room for the data of cookie '{key}' next to its name and attributes ({fixedLength} characters).");
        }

        var perChunk = size - fixedLength - ChunkIdBudget;
        var count = (escaped.Length + perChunk - 1) / perChunk;
        var values = new string[count + 1];
        values[0] = name + "=" + ChunksPrefix + count.ToString(CultureInfo.InvariantCulture) + attributes;
        for (var i = 0; i < count; i++)
        {
            var offset = i * perChunk;
            var segment = escaped.Substring(offset, Math.Min(perChunk, escaped.Length - offset));
            values[i + 1] = name + "C" + (i + 1).ToString(CultureInfo.InvariantCulture) + "=" + Quote(segment, quoted) + attributes;
        }

        headers.AppendValues("Set-Cookie", values);
    }

    /// <inheritdoc />
    public void DeleteCookie(IOwinContext context, string key, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);

        var name = Uri.EscapeDataString(key);
        var count = ChunkCount(context.Request.Cookies[key]);
        var prefixes = new List<string> { name + "=" };

        // One more than the request had: a response may already be setting a longer chain.
        for (var i = 1; count > 0 && i <= count + 1; i++)
        {
            prefixes.Add(name + "C" + i.ToString(CultureInfo.InvariantCulture) + "=");
        }

        var headers = context.Response.Headers;
        if (headers.GetValues("Set-Cookie") is { } existing)
        {
            headers.SetValues("Set-Cookie", [.. existing.Where(v => !Rejects(v, prefixes, options))]);
        }

        var expired = new CookieOptions { Domain = options.Domain, Path = options.Path, Expires = DateTime.UnixEpoch };
        AppendResponseCookie(context, key, string.Empty, expired);
        for (var i = 1; i <= count; i++)
        {
            AppendResponseCookie(context, key + "C" + i.ToString(CultureInfo.InvariantCulture), string.Empty, expired);
        }
    }

    private static bool Rejects(string setCookie, List<string> prefixes, CookieOptions options)
    {
        if (!prefixes.Exists(p => setCookie.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(options.Domain))
        {
            return setCookie.Contains("domain=" + options.Domain, StringComparison.OrdinalIgnoreCase);
        }

        return string.IsNullOrEmpty(options.Path) || setCookie.Contains("path=" + options.Path, StringComparison.OrdinalIgnoreCase);
    }

    private static int ChunkCount(string? value)
        => value is not null && value.StartsWith(ChunksPrefix, StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(ChunksPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : 0;

    private static bool IsQuoted(string value) => value.Length >= 2 && value[0] == '"' && value[^1] == '"';

    private static string Quote(string value, bool quoted) => quoted ? "\"" + value + "\"" : value;
}
