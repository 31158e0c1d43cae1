using System.Collections.Frozen;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Which header fields a proxy must not forward (RFC 9110 §7.6.1), and small field-syntax helpers.</summary>
internal static class HeaderRules
{
    /// <summary>The hop-by-hop field names: RFC 9110 §7.6.1 and RFC 9112 §9.6 name these; Proxy-Connection and Keep-Alive are the legacy ones every proxy drops.</summary>
    public static IReadOnlyList<string> HopByHopNames { get; } =
    [
        "Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
    ];

    // After HopByHopNames: static fields initialise in text order.
    private static readonly FrozenSet<string> HopByHop = HopByHopNames.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>True for a hop-by-hop field that never crosses the proxy.</summary>
    public static bool IsHopByHop(string name) => HopByHop.Contains(name);

    /// <summary>
    /// The field names listed in Connection values (RFC 9110 §7.6.1: "a proxy ... MUST remove any header
    /// fields listed in Connection"); null when they list nothing but the usual options.
    /// </summary>
    public static HashSet<string>? NamedInConnection(IEnumerable<string> connectionValues)
    {
        HashSet<string>? names = null;
        foreach (var value in connectionValues)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part.Equals("close", StringComparison.OrdinalIgnoreCase) || part.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    continue; // connection options, not field names worth a set
                }

                (names ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(part);
            }
        }

        return names;
    }

    /// <summary>RFC 9110 §5.6.2 token.</summary>
    public static bool IsToken(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
