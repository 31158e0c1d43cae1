namespace RocketOwin.Internal;

/// <summary>Character classes of RFC 9110 §5.6.2 (tchar) and §5.5 (field-vchar).</summary>
internal static class HttpCharacters
{
    private static readonly bool[] TokenChars = BuildTokenTable();

    public static bool IsTokenByte(byte b) => TokenChars[b];

    public static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var b in s)
        {
            if (!TokenChars[b])
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsToken(string s)
    {
        if (s.Length == 0)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c > 0x7f || !TokenChars[c])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>field-value bytes: VCHAR, obs-text, SP and HTAB; no other control characters.</summary>
    public static bool IsFieldValueByte(byte b) => b >= 0x20 ? b != 0x7f : b == (byte)'\t';

    private static bool[] BuildTokenTable()
    {
        var table = new bool[256];
        for (var c = '0'; c <= '9'; c++)
        {
            table[c] = true;
        }

        for (var c = 'a'; c <= 'z'; c++)
        {
            table[c] = true;
            table[c - 32] = true;
        }

        foreach (var c in "!#$%&'*+-.^_`|~")
        {
            table[c] = true;
        }

        return table;
    }
}
