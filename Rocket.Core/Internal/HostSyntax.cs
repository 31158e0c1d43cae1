using System.Numerics;

namespace RocketOwin.Internal;

/// <summary>
/// The syntax of a Host field value and of the authority in absolute- and authority-form targets:
/// <c>uri-host [ ":" port ]</c> (RFC 9110 §7.2, RFC 3986 §3.2.2–§3.2.3). No userinfo, no spaces, no quotes:
/// what a handler or an upstream gets as the host can be put in a URL or a header as it is.
/// </summary>
internal static class HostSyntax
{
    private const int MaxPort = 65535;

    // RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ).
    private static readonly bool[] RegNameChars = Build("-._~!$&'()*+,;=%");

    // RFC 3986 §3.2.2: IP-literal = "[" ( IPv6address / IPvFuture ) "]"; IPvFuture adds unreserved, sub-delims and ':'.
    private static readonly bool[] LiteralChars = Build("-._~!$&'()*+,;=:%");

    /// <summary>True for <c>uri-host [":" port]</c>; an empty value is valid unless a port is required (RFC 9112 §3.2: an empty Host for a target without an authority).</summary>
    public static bool IsValid(ReadOnlySpan<char> value, bool requirePort) => Check(value, requirePort);

    /// <inheritdoc cref="IsValid(ReadOnlySpan{char}, bool)"/>
    public static bool IsValid(ReadOnlySpan<byte> value, bool requirePort) => Check(value, requirePort);

    private static bool Check<T>(ReadOnlySpan<T> value, bool requirePort)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (value.IsEmpty)
        {
            return !requirePort;
        }

        int hostEnd;
        if (int.CreateTruncating(value[0]) == '[')
        {
            hostEnd = IndexOf(value, ']');
            if (hostEnd < 2 || !AllIn(value[1..hostEnd], LiteralChars))
            {
                return false;
            }

            hostEnd++;
        }
        else
        {
            hostEnd = IndexOf(value, ':');
            if (hostEnd < 0)
            {
                hostEnd = value.Length;
            }

            if (hostEnd == 0 || !AllIn(value[..hostEnd], RegNameChars) || !PercentEncodingValid(value[..hostEnd]))
            {
                return false;
            }
        }

        if (hostEnd == value.Length)
        {
            return !requirePort;
        }

        // RFC 3986 §3.2.3: port = *DIGIT, here at most a 16-bit number.
        if (int.CreateTruncating(value[hostEnd]) != ':')
        {
            return false;
        }

        var port = value[(hostEnd + 1)..];
        if (port.IsEmpty)
        {
            return !requirePort;
        }

        if (port.Length > 5)
        {
            return false;
        }

        var number = 0;
        foreach (var digit in port)
        {
            var c = int.CreateTruncating(digit);
            if (c is < '0' or > '9')
            {
                return false;
            }

            number = (number * 10) + (c - '0');
        }

        return number <= MaxPort;
    }

    private static int IndexOf<T>(ReadOnlySpan<T> value, char c)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (int.CreateTruncating(value[i]) == c)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool AllIn<T>(ReadOnlySpan<T> value, bool[] table)
        where T : unmanaged, IBinaryInteger<T>
    {
        foreach (var item in value)
        {
            var c = int.CreateTruncating(item);
            if ((uint)c >= (uint)table.Length || !table[c])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every '%' starts pct-encoded: two hex digits.</summary>
    private static bool PercentEncodingValid<T>(ReadOnlySpan<T> value)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (int.CreateTruncating(value[i]) == '%'
                && (i + 2 >= value.Length || !char.IsAsciiHexDigit((char)int.CreateTruncating(value[i + 1])) || !char.IsAsciiHexDigit((char)int.CreateTruncating(value[i + 2]))))
            {
                return false;
            }
        }

        return true;
    }

    private static bool[] Build(string extra)
    {
        var table = new bool[128];
        for (var c = '0'; c <= '9'; c++)
        {
            table[c] = true;
        }

        for (var c = 'a'; c <= 'z'; c++)
        {
            table[c] = true;
            table[c - 32] = true;
        }

        foreach (var c in extra)
        {
            table[c] = true;
        }

        return table;
    }
}
