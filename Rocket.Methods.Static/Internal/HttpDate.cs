using System.Globalization;

namespace RocketOwin.Methods.Static.Internal;

/// <summary>HTTP-date parsing (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.</summary>
internal static class HttpDate
{
    private static readonly string[] Formats =
    [
        "r", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd-MMM-yy HH:mm:ss 'GMT'", // RFC 850
        "ddd MMM d HH:mm:ss yyyy", // asctime
        "ddd MMM  d HH:mm:ss yyyy",
    ];

    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value)
        => DateTimeOffset.TryParseExact(
            text.Trim(),
            Formats,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal,
            out value);
}
