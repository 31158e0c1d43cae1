using System.Text;

namespace RocketOwin.Internal;

/// <summary>Header bytes are ISO-8859-1 on the wire (RFC 9110 §5.5 obs-text); these helpers compare and decode without allocating.</summary>
internal static class Latin1
{
    public static bool Equals(string s, ReadOnlySpan<byte> bytes)
    {
        if (s.Length != bytes.Length)
        {
            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            if (s[i] != bytes[i])
            {
                return false;
            }
        }

        return true;
    }

    public static string GetString(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? string.Empty : Encoding.Latin1.GetString(bytes);

    /// <summary>Writes an ASCII/Latin-1 string as bytes; characters above U+00FF become '?'.</summary>
    public static int Write(string s, Span<byte> destination)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            destination[i] = c <= '\u00ff' ? (byte)c : (byte)'?';
        }

        return s.Length;
    }
}
