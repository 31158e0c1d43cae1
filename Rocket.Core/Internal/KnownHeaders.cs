using System.Collections.Frozen;

namespace RocketOwin.Internal;

/// <summary>Canonical strings for the header names clients send most, so parsing them allocates nothing.</summary>
internal static class KnownHeaders
{
    private static readonly string[] Names =
    [
        "Host", "Connection", "Content-Length", "Content-Type", "Transfer-Encoding", "Accept", "Accept-Encoding",
        "Accept-Language", "Accept-Charset", "User-Agent", "Cookie", "Authorization", "Cache-Control", "Pragma",
        "Referer", "Origin", "Upgrade", "Upgrade-Insecure-Requests", "Expect", "If-None-Match", "If-Modified-Since",
        "If-Match", "If-Unmodified-Since", "If-Range", "Range", "TE", "Trailer", "Keep-Alive", "Via", "X-Forwarded-For",
        "X-Forwarded-Proto", "X-Forwarded-Host", "X-Requested-With", "DNT", "Content-Encoding", "Sec-WebSocket-Key",
        "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-Fetch-Site",
        "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User", "Priority", "Forwarded", "Date",
    ];

    private static readonly FrozenDictionary<string, string> ByName =
        Names.ToFrozenDictionary(n => n, n => n, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string GetName(ReadOnlySpan<byte> name)
    {
        if (name.Length <= 64)
        {
            Span<char> chars = stackalloc char[name.Length];
            for (var i = 0; i < name.Length; i++)
            {
                chars[i] = (char)name[i];
            }

            if (Lookup.TryGetValue(chars, out var known))
            {
                return known;
            }
        }

        return Latin1.GetString(name);
    }
}
