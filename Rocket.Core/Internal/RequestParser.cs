namespace RocketOwin.Internal;

/// <summary>
/// Parses a request line and header section (RFC 9112 §2–§5) from bytes already received. Works on the
/// whole buffered head each time: heads are small and bounded by the limits, and a partial head simply
/// returns 0 to ask for more.
/// </summary>
internal static class RequestParser
{
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';
    private const byte Sp = (byte)' ';
    private const byte Tab = (byte)'\t';
    private const byte Colon = (byte)':';

    /// <summary>Most empty lines skipped before a request line (RFC 9112 §2.2 asks for at least one).</summary>
    private const int MaxLeadingEmptyLines = 8;

    /// <summary>Returns the bytes the head took when it is complete, or 0 when more bytes are needed.</summary>
    /// <exception cref="BadRequestException">The head is malformed or over a limit.</exception>
    public static int TryParse(ReadOnlySpan<byte> buffer, RequestHead head, ServerLimits limits)
    {
        var start = 0;
        for (var skipped = 0; skipped < MaxLeadingEmptyLines; skipped++)
        {
            if (buffer.Length > start && buffer[start] == Lf)
            {
                start++;
            }
            else if (buffer.Length > start + 1 && buffer[start] == Cr && buffer[start + 1] == Lf)
            {
                start += 2;
            }
            else
            {
                break;
            }
        }

        var rest = buffer[start..];
        var lineEnd = rest.IndexOf(Lf);
        if (lineEnd < 0)
        {
            if (rest.Length > limits.MaxRequestLineLength + 1)
            {
                throw new BadRequestException(RequestRejectionReason.RequestLineTooLong, $"over {limits.MaxRequestLineLength} bytes");
            }

            return 0;
        }

        var line = TrimCr(rest[..lineEnd]);
        if (line.Length > limits.MaxRequestLineLength)
        {
            throw new BadRequestException(RequestRejectionReason.RequestLineTooLong, $"{line.Length} bytes, limit {limits.MaxRequestLineLength}");
        }

        // Find the end of the header section before touching the head, so a partial head costs only a scan.
        var headers = rest[(lineEnd + 1)..];
        var headersLength = FindEndOfHeaders(headers, limits);
        if (headersLength < 0)
        {
            return 0;
        }

        head.Reset();
        ParseRequestLine(line, head);
        ParseHeaders(headers[..headersLength], head, limits);
        return start + lineEnd + 1 + headersLength;
    }

    /// <summary>Length of the header section including the final empty line, or -1 when it has not all arrived.</summary>
    private static int FindEndOfHeaders(ReadOnlySpan<byte> headers, ServerLimits limits)
    {
        var pos = 0;
        while (true)
        {
            var lf = headers[pos..].IndexOf(Lf);
            if (lf < 0)
            {
                if (headers.Length > limits.MaxRequestHeadersTotalSize)
                {
                    throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, $"over {limits.MaxRequestHeadersTotalSize} bytes");
                }

                return -1;
            }

            var lineLength = lf == 0 || headers[pos + lf - 1] != Cr ? lf : lf - 1;
            pos += lf + 1;
            if (pos > limits.MaxRequestHeadersTotalSize + 2)
            {
                throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, $"over {limits.MaxRequestHeadersTotalSize} bytes");
            }

            if (lineLength == 0)
            {
                return pos;
            }
        }
    }

    private static void ParseRequestLine(ReadOnlySpan<byte> line, RequestHead head)
    {
        // RFC 9112 §3: method SP request-target SP HTTP-version, single spaces.
        var sp1 = line.IndexOf(Sp);
        if (sp1 <= 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "no method");
        }

        var method = line[..sp1];
        var afterMethod = line[(sp1 + 1)..];
        var sp2 = afterMethod.IndexOf(Sp);
        if (sp2 <= 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "no request target or version");
        }

        var target = afterMethod[..sp2];
        var version = afterMethod[(sp2 + 1)..];

        if (!HttpCharacters.IsToken(method))
        {
            throw new BadRequestException(RequestRejectionReason.InvalidMethod);
        }

        head.Version = ParseVersion(version);
        head.Method = KnownMethods.Get(method);

        foreach (var b in target)
        {
            // Only visible ASCII in a request-target (RFC 3986 characters; others must be percent-encoded).
            if (b <= Sp || b >= 0x7f)
            {
                throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "control, space or non-ASCII byte in the target");
            }
        }

        var first = target[0];
        if (first != (byte)'/' && !(target.Length == 1 && first == (byte)'*') && !IsAbsoluteForm(target) && head.Method != "CONNECT")
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "not origin, absolute, authority or asterisk form");
        }

        if (first == (byte)'*' && head.Method != "OPTIONS")
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "asterisk form is only for OPTIONS");
        }

        head.SetTarget(target);
    }

    private static bool IsAbsoluteForm(ReadOnlySpan<byte> target)
        => target.StartsWith("http://"u8) || target.StartsWith("https://"u8)
           || target.StartsWith("HTTP://"u8) || target.StartsWith("HTTPS://"u8);

    private static HttpVersion ParseVersion(ReadOnlySpan<byte> version)
    {
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            return HttpVersion.Http11;
        }

        if (version.SequenceEqual("HTTP/1.0"u8))
        {
            return HttpVersion.Http10;
        }

        // Well-formed but another version (HTTP/2.0, HTTP/0.9, HTTP/3): 505. Anything else is a malformed line.
        if (version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5])
            && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]))
        {
            throw new BadRequestException(RequestRejectionReason.UnsupportedHttpVersion, System.Text.Encoding.ASCII.GetString(version));
        }

        throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "bad HTTP-version");
    }

    private static void ParseHeaders(ReadOnlySpan<byte> section, RequestHead head, ServerLimits limits)
    {
        var headers = head.Headers;
        while (true)
        {
            var lf = section.IndexOf(Lf);
            var line = TrimCr(section[..lf]);
            section = section[(lf + 1)..];
            if (line.IsEmpty)
            {
                return;
            }

            if (line[0] is Sp or Tab)
            {
                // RFC 9112 §5.2: obsolete line folding is rejected.
                throw new BadRequestException(RequestRejectionReason.InvalidHeaderLine, "obsolete line folding");
            }

            var colon = line.IndexOf(Colon);
            if (colon <= 0)
            {
                throw new BadRequestException(RequestRejectionReason.InvalidHeaderLine, "no field name or colon");
            }

            var name = line[..colon];
            if (!HttpCharacters.IsToken(name))
            {
                // Includes whitespace between name and colon (RFC 9112 §5.1: must be rejected).
                throw new BadRequestException(RequestRejectionReason.InvalidHeaderLine, "invalid field name");
            }

            var value = line[(colon + 1)..].Trim(" \t"u8);
            foreach (var b in value)
            {
                if (!HttpCharacters.IsFieldValueByte(b))
                {
                    throw new BadRequestException(RequestRejectionReason.InvalidHeaderLine, "control character in a field value");
                }
            }

            if (headers.Count == limits.MaxRequestHeaderCount)
            {
                throw new BadRequestException(RequestRejectionReason.TooManyHeaders, $"more than {limits.MaxRequestHeaderCount}");
            }

            headers.Add(name, value);
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == Cr)
        {
            line = line[..^1];
        }

        // A bare CR anywhere else is not a line ending (RFC 9112 §2.2).
        if (line.IndexOf(Cr) >= 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidHeaderLine, "bare CR");
        }

        return line;
    }
}
