using System.Text;

namespace RocketOwin.Internal;

/// <summary>
/// Parses a request line and header section (RFC 9112 §2–§5) from bytes already received. A head that has
/// not all arrived returns 0 and leaves a <see cref="HeadScan"/> saying how far it got, so each byte is
/// scanned once however the head is split into packets. The request line is validated as soon as it ends
/// (an HTTP/0.9 line is refused then, not after the header timeout); a bare CR is refused as soon as the
/// byte after it is seen. Every decision depends only on the bytes before it, so where the packets split
/// never changes the result.
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

    /// <summary>Bytes the final empty line of a header section may add to <see cref="ServerLimits.MaxRequestHeadersTotalSize"/> (its CRLF).</summary>
    private const int FinalLineEnd = 2;

    /// <summary>Parses a head from its first byte (no earlier call to resume from).</summary>
    /// <exception cref="BadRequestException">The head is malformed or over a limit.</exception>
    public static int TryParse(ReadOnlySpan<byte> buffer, RequestHead head, ServerLimits limits)
    {
        var scan = default(HeadScan);
        return TryParse(buffer, head, limits, ref scan);
    }

    /// <summary>
    /// Returns the bytes the head took when it is complete, or 0 when more bytes are needed; then
    /// <paramref name="scan"/> records the progress the next call (with the same bytes and more) resumes from.
    /// </summary>
    /// <exception cref="BadRequestException">The head is malformed or over a limit.</exception>
    public static int TryParse(ReadOnlySpan<byte> buffer, RequestHead head, ServerLimits limits, ref HeadScan scan)
    {
        int end;
        try
        {
            if (scan.HeadersStart == 0 && !ScanRequestLine(buffer, limits, ref scan))
            {
                return 0;
            }

            end = ScanFieldLines(buffer, limits, ref scan);
        }
        catch (BadRequestException)
        {
            // Refused before this head was parsed: the log line and the refusal must not show the previous request's.
            head.ForgetRequestLine();
            throw;
        }

        if (end < 0)
        {
            return 0;
        }

        head.Reset();
        var line = buffer.Slice(scan.LineStart, scan.LineLength);
        head.Version = scan.Version;
        head.Method = KnownMethods.Get(line[..scan.MethodLength]);
        head.SetTarget(line.Slice(scan.MethodLength + 1, scan.TargetLength));
        ParseFieldLines(buffer[scan.HeadersStart..end], head, limits);
        scan = default;
        return end;
    }

    /// <summary>Finds and validates the request line; false when it has not all arrived.</summary>
    private static bool ScanRequestLine(ReadOnlySpan<byte> buffer, ServerLimits limits, ref HeadScan scan)
    {
        var start = SkipEmptyLines(buffer);
        var from = Math.Max(start, scan.Scanned);

        // The line ending must come within the limit: search no further than that.
        var window = Math.Min(buffer.Length, start + limits.MaxRequestLineLength + 1);
        var end = from < window ? buffer[from..window].IndexOfAny(Cr, Lf) : -1;
        if (end < 0)
        {
            if (buffer.Length - start > limits.MaxRequestLineLength)
            {
                throw new BadRequestException(RequestRejectionReason.RequestLineTooLong, $"over {limits.MaxRequestLineLength} bytes");
            }

            scan.Scanned = buffer.Length;
            return false;
        }

        end += from;
        var next = AfterLineEnd(buffer, end);
        if (next == 0)
        {
            scan.Scanned = end;
            return false;
        }

        ValidateRequestLine(buffer[start..end], ref scan);
        scan.LineStart = start;
        scan.LineLength = end - start;
        scan.HeadersStart = scan.FieldLineStart = scan.Scanned = next;
        return true;
    }

    private static int SkipEmptyLines(ReadOnlySpan<byte> buffer)
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

        return start;
    }

    /// <summary>
    /// The offset after the line ending that starts at <paramref name="at"/> (a CR or an LF); 0 when it is a CR
    /// whose next byte has not arrived.
    /// </summary>
    private static int AfterLineEnd(ReadOnlySpan<byte> buffer, int at)
    {
        if (buffer[at] == Lf)
        {
            return at + 1; // RFC 9112 §2.2: a bare LF may be taken as a line terminator.
        }

        if (at + 1 == buffer.Length)
        {
            return 0;
        }

        // RFC 9112 §2.2: a bare CR is invalid; rejected at once rather than waited out.
        return buffer[at + 1] == Lf ? at + 2 : throw new BadRequestException(RequestRejectionReason.BareCarriageReturn);
    }

    /// <summary>
    /// Finds the empty line ending the header section, from where the last call stopped. Returns the offset
    /// after it, or -1 when it has not arrived. Checks line endings and the size limit on the way.
    /// </summary>
    private static int ScanFieldLines(ReadOnlySpan<byte> buffer, ServerLimits limits, ref HeadScan scan)
    {
        var limitEnd = scan.HeadersStart + limits.MaxRequestHeadersTotalSize + FinalLineEnd;
        var window = Math.Min(buffer.Length, limitEnd);
        var lineStart = scan.FieldLineStart;
        var pos = scan.Scanned;
        while (true)
        {
            var end = pos < window ? buffer[pos..window].IndexOfAny(Cr, Lf) : -1;
            if (end < 0)
            {
                if (buffer.Length >= limitEnd)
                {
                    throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, $"over {limits.MaxRequestHeadersTotalSize} bytes");
                }

                scan.FieldLineStart = lineStart;
                scan.Scanned = buffer.Length;
                return -1;
            }

            end += pos;
            if (buffer[end] == Cr && end + 1 < buffer.Length && end + 1 >= limitEnd)
            {
                throw new BadRequestException(RequestRejectionReason.HeadersTooLarge, $"over {limits.MaxRequestHeadersTotalSize} bytes");
            }

            var next = AfterLineEnd(buffer, end);
            if (next == 0)
            {
                scan.FieldLineStart = lineStart;
                scan.Scanned = end;
                return -1;
            }

            if (end == lineStart)
            {
                return next;
            }

            lineStart = pos = next;
        }
    }

    /// <summary>RFC 9112 §3: method SP request-target SP HTTP-version, single spaces. Records the parts' lengths and the version.</summary>
    private static void ValidateRequestLine(ReadOnlySpan<byte> line, ref HeadScan scan)
    {
        var sp1 = line.IndexOf(Sp);
        if (sp1 <= 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "no method");
        }

        var method = line[..sp1];
        var afterMethod = line[(sp1 + 1)..];
        var sp2 = afterMethod.IndexOf(Sp);
        if (sp2 < 0)
        {
            // "GET /hello": an HTTP/0.9 simple request, which has no version and no header section.
            throw new BadRequestException(RequestRejectionReason.MissingHttpVersion);
        }

        if (sp2 == 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "no request target");
        }

        var target = afterMethod[..sp2];
        if (!HttpCharacters.IsToken(method))
        {
            throw new BadRequestException(RequestRejectionReason.InvalidMethod);
        }

        scan.Version = ParseVersion(afterMethod[(sp2 + 1)..]);
        ValidateTarget(method, target);
        scan.MethodLength = sp1;
        scan.TargetLength = sp2;
    }

    private static void ValidateTarget(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target)
    {
        foreach (var b in target)
        {
            // Only visible ASCII in a request-target (RFC 3986 characters; others must be percent-encoded).
            if (b <= Sp || b >= 0x7f)
            {
                throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "control, space or non-ASCII byte in the target");
            }
        }

        // RFC 9112 §3.2.3: CONNECT takes the authority form (host:port), and only CONNECT does.
        if (method.SequenceEqual("CONNECT"u8))
        {
            if (!HostSyntax.IsValid(target, requirePort: true))
            {
                throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "CONNECT needs host:port");
            }

            return;
        }

        var first = target[0];
        if (first == (byte)'/')
        {
            return;
        }

        // RFC 9112 §3.2.4: the asterisk form is only for OPTIONS.
        if (target.Length == 1 && first == (byte)'*')
        {
            if (!method.SequenceEqual("OPTIONS"u8))
            {
                throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "asterisk form is only for OPTIONS");
            }

            return;
        }

        var authority = AbsoluteFormAuthority(target);
        if (authority < 0)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidRequestTarget, "not origin, absolute, authority or asterisk form");
        }

        // RFC 9112 §3.2.2 and RFC 9110 §4.2.4: the authority stands in for Host, and userinfo in it is an error.
        var length = AuthorityLength(target, authority);
        if (length == 0 || !HostSyntax.IsValid(target.Slice(authority, length), requirePort: false))
        {
            throw new BadRequestException(RequestRejectionReason.InvalidHost, "in the absolute-form target");
        }
    }

    /// <summary>Where the authority of an http or https absolute-form target starts (the scheme is case-insensitive, RFC 3986 §3.1); -1 when it is not one.</summary>
    private static int AbsoluteFormAuthority(ReadOnlySpan<byte> target)
    {
        if (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        {
            return 7;
        }

        return target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8) ? 8 : -1;
    }

    /// <summary>The authority runs to the first '/', '?' or '#' (RFC 3986 §3.2).</summary>
    private static int AuthorityLength(ReadOnlySpan<byte> target, int authority)
    {
        var end = target[authority..].IndexOfAny("/?#"u8);
        return end < 0 ? target.Length - authority : end;
    }

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
            throw new BadRequestException(RequestRejectionReason.UnsupportedHttpVersion, Encoding.ASCII.GetString(version));
        }

        throw new BadRequestException(RequestRejectionReason.InvalidRequestLine, "bad HTTP-version");
    }

    /// <summary>Parses field lines whose line endings <see cref="ScanFieldLines"/> already checked (no bare CR is left).</summary>
    private static void ParseFieldLines(ReadOnlySpan<byte> section, RequestHead head, ServerLimits limits)
    {
        var headers = head.Headers;
        while (true)
        {
            var lf = section.IndexOf(Lf);
            var line = section[..lf];
            if (!line.IsEmpty && line[^1] == Cr)
            {
                line = line[..^1];
            }

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
}
