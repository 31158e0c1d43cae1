using System.Text;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Parses an upstream's status line and field lines (RFC 9112 §4, §5) with the core's character rules, and the
/// framing they declare (§6.3), strictly: a head a proxy must not relay is reported as malformed, never guessed at.
/// </summary>
internal static class ResponseHeadParser
{
    /// <summary>
    /// Parses the head at <paramref name="start"/>..<paramref name="end"/> of <paramref name="buffer"/>.
    /// Returns 0 when the head has not all arrived, -1 when it is malformed (<see cref="ResponseHead.Malformed"/> says why),
    /// else the head's length; field offsets in <paramref name="head"/> are offsets into <paramref name="buffer"/>.
    /// </summary>
    public static int TryParse(byte[] buffer, int start, int end, ResponseHead head)
    {
        var data = buffer.AsSpan(start, end - start);
        var length = HeadLength(data);
        if (length == 0)
        {
            if (data.Length >= UpstreamConnection.MaxHeadSize)
            {
                head.Reset();
                head.Malformed = "a response head over 64 KiB";
                return -1;
            }

            return 0;
        }

        head.Reset();
        head.Length = length;
        var lineEnd = data.IndexOf((byte)'\n');
        if (!ParseStatusLine(TrimCr(data[..lineEnd]), head))
        {
            head.Malformed ??= "an invalid status line";
            return -1;
        }

        var at = lineEnd + 1;
        while (true)
        {
            var lf = data[at..].IndexOf((byte)'\n');
            var line = TrimCr(data.Slice(at, lf));
            if (line.IsEmpty)
            {
                break;
            }

            if (!ParseField(start + at, line, head))
            {
                return -1;
            }

            at += lf + 1;
        }

        if (head.HasTransferEncoding && head.ContentLength >= 0)
        {
            // RFC 9112 §6.3 item 3: both present is a smuggling attempt or a broken server; a proxy must not forward it.
            head.Malformed = "Content-Length with Transfer-Encoding";
            return -1;
        }

        if (head.VersionMinor == 0 && !head.KeepAlive)
        {
            head.Close = true;
        }

        return length;
    }

    /// <summary>The head's length up to and including its empty line; 0 when it has not all arrived.</summary>
    private static int HeadLength(ReadOnlySpan<byte> data)
    {
        var at = 0;
        while (true)
        {
            var lf = data[at..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return 0;
            }

            at += lf + 1;
            if (at < data.Length && data[at] == (byte)'\n')
            {
                return at + 1;
            }

            if (at + 1 < data.Length && data[at] == (byte)'\r' && data[at + 1] == (byte)'\n')
            {
                return at + 2;
            }

            if (at + 1 >= data.Length)
            {
                return 0;
            }
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => !line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line;

    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
    private static bool ParseStatusLine(ReadOnlySpan<byte> line, ResponseHead head)
    {
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ')
        {
            return false;
        }

        head.VersionMinor = line[7] switch
        {
            (byte)'1' => 1,
            (byte)'0' => 0,
            _ => -1,
        };
        if (head.VersionMinor < 0 || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11]))
        {
            return false;
        }

        head.Status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (head.Status < 100 || (line.Length > 12 && line[12] != (byte)' '))
        {
            return false;
        }

        foreach (var b in line[12..])
        {
            if (!HttpCharacters.IsFieldValueByte(b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ParseField(int offset, ReadOnlySpan<byte> line, ResponseHead head)
    {
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            // RFC 9112 §5.2: obs-fold; a proxy either rejects it with 502 or unfolds it. Rejecting is the one safe choice.
            head.Malformed = "a folded field line (obs-fold)";
            return false;
        }

        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || !HttpCharacters.IsToken(line[..colon]))
        {
            // RFC 9112 §5.1: no whitespace between the name and the colon.
            head.Malformed = "an invalid field name";
            return false;
        }

        var valueStart = colon + 1;
        var valueEnd = line.Length;
        while (valueStart < valueEnd && line[valueStart] is (byte)' ' or (byte)'\t')
        {
            valueStart++;
        }

        while (valueEnd > valueStart && line[valueEnd - 1] is (byte)' ' or (byte)'\t')
        {
            valueEnd--;
        }

        var value = line[valueStart..valueEnd];
        foreach (var b in value)
        {
            if (!HttpCharacters.IsFieldValueByte(b))
            {
                head.Malformed = "a control character in a field value";
                return false;
            }
        }

        if (head.FieldCount >= ResponseHead.MaxFields)
        {
            head.Malformed = "more than 256 field lines";
            return false;
        }

        head.AddField(offset, colon, offset + valueStart, value.Length);
        var name = line[..colon];
        if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            return ReadContentLength(value, head);
        }

        if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            return ReadTransferEncoding(value, head);
        }

        if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            ReadConnection(value, head);
        }

        return true;
    }

    // RFC 9110 §8.6: a list of identical values may be taken as one; differing or invalid values are an unrecoverable framing error (RFC 9112 §6.3 item 5).
    private static bool ReadContentLength(ReadOnlySpan<byte> value, ResponseHead head)
    {
        foreach (var range in value.Split((byte)','))
        {
            var element = value[range].Trim(" \t"u8);
            if (element.IsEmpty || element.Length > 18 || element.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            {
                head.Malformed = "an invalid Content-Length";
                return false;
            }

            long n = 0;
            foreach (var digit in element)
            {
                n = (n * 10) + (digit - '0');
            }

            if (head.ContentLength >= 0 && head.ContentLength != n)
            {
                head.Malformed = "differing Content-Length values";
                return false;
            }

            head.ContentLength = n;
        }

        return true;
    }

    private static bool ReadTransferEncoding(ReadOnlySpan<byte> value, ResponseHead head)
    {
        foreach (var range in value.Split((byte)','))
        {
            var coding = value[range].Trim(" \t"u8);
            if (coding.IsEmpty)
            {
                continue;
            }

            if (head.Chunked)
            {
                // RFC 9112 §7: chunked must be the last coding, applied once.
                head.Malformed = "a Transfer-Encoding with chunked before another coding";
                return false;
            }

            head.HasTransferEncoding = true;
            head.Chunked = Ascii.EqualsIgnoreCase(coding, "chunked"u8);
        }

        return true;
    }

    private static void ReadConnection(ReadOnlySpan<byte> value, ResponseHead head)
    {
        foreach (var range in value.Split((byte)','))
        {
            var option = value[range].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                head.Close = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                head.KeepAlive = true;
            }
            else if (!option.IsEmpty)
            {
                head.ConnectionNamesFields = true;
            }
        }
    }
}
