namespace RocketOwin.Internal;

/// <summary>
/// Works out from a parsed head how its body is framed and whether the connection persists
/// (RFC 9112 §6 and §9), rejecting the ambiguous combinations that enable request smuggling.
/// </summary>
internal static class RequestFraming
{
    public static void Apply(RequestHead head, ServerLimits limits)
    {
        var headers = head.Headers;
        long contentLength = -1;
        string? transferEncoding = null;
        var hostCount = 0;
        var connectionClose = false;
        var connectionKeepAlive = false;
        var connectionUpgrade = false;
        var hasUpgrade = false;

        for (var i = 0; i < headers.Count; i++)
        {
            var name = headers.NameAt(i);
            var value = headers.ValueAt(i);
            if (Is(name, "Content-Length"))
            {
                // RFC 9112 §6.3: differing Content-Length values are unrecoverable; identical repeats are allowed.
                foreach (var range in value.AsSpan().Split(','))
                {
                    var v = ParseLength(value.AsSpan()[range].Trim());
                    if (contentLength >= 0 && v != contentLength)
                    {
                        throw new BadRequestException(RequestRejectionReason.MultipleContentLengths);
                    }

                    contentLength = v;
                }
            }
            else if (Is(name, "Transfer-Encoding"))
            {
                transferEncoding = transferEncoding is null ? value : transferEncoding + "," + value;
            }
            else if (Is(name, "Host"))
            {
                // RFC 9112 §3.2: a Host with an invalid value gets 400, like a missing or repeated one.
                if (!HostSyntax.IsValid(value, requirePort: false))
                {
                    throw new BadRequestException(RequestRejectionReason.InvalidHost, value);
                }

                hostCount++;
                head.Host = value;
            }
            else if (Is(name, "Connection"))
            {
                foreach (var range in value.AsSpan().Split(','))
                {
                    var t = value.AsSpan()[range].Trim();
                    connectionClose |= t.Equals("close", StringComparison.OrdinalIgnoreCase);
                    connectionKeepAlive |= t.Equals("keep-alive", StringComparison.OrdinalIgnoreCase);
                    connectionUpgrade |= t.Equals("upgrade", StringComparison.OrdinalIgnoreCase);
                }
            }
            else if (Is(name, "Expect"))
            {
                // RFC 9110 §10.1.1: 100-continue is the only expectation defined.
                if (!value.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
                {
                    throw new BadRequestException(RequestRejectionReason.UnsupportedExpectation, value);
                }

                head.ExpectsContinue = head.Version == HttpVersion.Http11;
            }
            else if (Is(name, "Upgrade"))
            {
                hasUpgrade = true;
            }
        }

        // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host.
        if (head.Version == HttpVersion.Http11 ? hostCount != 1 : hostCount > 1)
        {
            throw new BadRequestException(RequestRejectionReason.MissingOrMultipleHost, $"{hostCount} Host fields");
        }

        // RFC 9112 §3.2.2: with an absolute-form target the target's authority is the host; Host is ignored.
        var target = head.Target;
        if (target.Length > 0 && target[0] != '/' && target != "*" && head.Method != "CONNECT")
        {
            var authority = target.IndexOf("://", StringComparison.Ordinal) + 3;
            var length = target.AsSpan(authority).IndexOfAny("/?#");
            head.Host = length < 0 ? target[authority..] : target.Substring(authority, length);
        }

        if (transferEncoding is not null)
        {
            // RFC 9112 §6.1: Transfer-Encoding with Content-Length may be an attack; we reject rather than guess.
            if (contentLength >= 0)
            {
                throw new BadRequestException(RequestRejectionReason.ContentLengthWithTransferEncoding);
            }

            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is treated as faulty framing.
            if (head.Version == HttpVersion.Http10)
            {
                throw new BadRequestException(RequestRejectionReason.UnsupportedTransferEncoding, "Transfer-Encoding in HTTP/1.0");
            }

            // Only a single "chunked" coding is understood (RFC 9112 §6.3: chunked must be final; others -> 501).
            if (!transferEncoding.Trim().Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                throw new BadRequestException(RequestRejectionReason.UnsupportedTransferEncoding, transferEncoding);
            }

            head.IsChunked = true;
            head.ContentLength = null;
        }
        else if (contentLength >= 0)
        {
            if (contentLength > limits.MaxRequestBodySize)
            {
                throw new BadRequestException(RequestRejectionReason.RequestBodyTooLarge, $"{contentLength} bytes, limit {limits.MaxRequestBodySize}");
            }

            head.ContentLength = contentLength;
        }
        else
        {
            head.ContentLength = 0;
        }

        if (!head.HasBody)
        {
            head.ExpectsContinue = false;
        }

        head.KeepAlive = head.Version == HttpVersion.Http11 ? !connectionClose : connectionKeepAlive && !connectionClose;
        head.IsUpgradeRequest = connectionUpgrade && hasUpgrade && head.Version == HttpVersion.Http11;
    }

    /// <summary>1*DIGIT only (RFC 9110 §8.6): no sign, no spaces, no hex; at most 18 digits so it fits a long.</summary>
    private static long ParseLength(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > 18)
        {
            throw new BadRequestException(RequestRejectionReason.InvalidContentLength, text.ToString());
        }

        long value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                throw new BadRequestException(RequestRejectionReason.InvalidContentLength, text.ToString());
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }

    private static bool Is(string name, string known) => string.Equals(name, known, StringComparison.OrdinalIgnoreCase);
}
