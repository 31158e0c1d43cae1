namespace RocketOwin;

/// <summary>Why a request was refused. Each member reads as a diagnosis; <see cref="BadRequestException.StatusCode"/> maps it to a status.</summary>
public enum RequestRejectionReason
{
    /// <summary>The request line is not <c>method SP request-target SP HTTP-version</c> (RFC 9112 §3).</summary>
    InvalidRequestLine,

    /// <summary>The method token has characters outside tchar (RFC 9110 §9.1).</summary>
    InvalidMethod,

    /// <summary>The request target is empty, has control characters, or is not origin/absolute/authority/asterisk form.</summary>
    InvalidRequestTarget,

    /// <summary>The HTTP version is not HTTP/1.0 or HTTP/1.1 (505).</summary>
    UnsupportedHttpVersion,

    /// <summary>The request line is longer than <see cref="ServerLimits.MaxRequestLineLength"/> (414).</summary>
    RequestLineTooLong,

    /// <summary>A field line is malformed: no colon, whitespace before the colon, an invalid name or value byte, or obsolete line folding (RFC 9112 §5).</summary>
    InvalidHeaderLine,

    /// <summary>The header section is larger than <see cref="ServerLimits.MaxRequestHeadersTotalSize"/> (431).</summary>
    HeadersTooLarge,

    /// <summary>There are more fields than <see cref="ServerLimits.MaxRequestHeaderCount"/> (431).</summary>
    TooManyHeaders,

    /// <summary>An HTTP/1.1 request has no Host, or more than one (RFC 9112 §3.2).</summary>
    MissingOrMultipleHost,

    /// <summary>Content-Length is not a non-negative decimal number.</summary>
    InvalidContentLength,

    /// <summary>Content-Length appears more than once with different values (RFC 9112 §6.3).</summary>
    MultipleContentLengths,

    /// <summary>Both Transfer-Encoding and Content-Length are present (RFC 9112 §6.1: a smuggling vector; rejected).</summary>
    ContentLengthWithTransferEncoding,

    /// <summary>Transfer-Encoding is not exactly <c>chunked</c> as the final coding (RFC 9112 §6.3).</summary>
    UnsupportedTransferEncoding,

    /// <summary>A chunk-size line or chunk framing is malformed (RFC 9112 §7.1).</summary>
    InvalidChunkedBody,

    /// <summary>The body is larger than <see cref="ServerLimits.MaxRequestBodySize"/> (413).</summary>
    RequestBodyTooLarge,

    /// <summary>The connection closed before the whole body arrived.</summary>
    UnexpectedEndOfRequestBody,

    /// <summary>The header section did not arrive within <see cref="ServerLimits.RequestHeadersTimeout"/> (408).</summary>
    RequestHeadersTimeout,

    /// <summary>A body read waited longer than <see cref="ServerLimits.IOTimeout"/> (408).</summary>
    RequestBodyTimeout,

    /// <summary>Expect carries something other than 100-continue (417, RFC 9110 §10.1.1).</summary>
    UnsupportedExpectation,

    /// <summary>The request line has a method and a target but no HTTP-version: an HTTP/0.9 request (RFC 9112 §3), answered 400 at once.</summary>
    MissingHttpVersion,

    /// <summary>A CR in the head is not followed by LF (RFC 9112 §2.2: a bare CR is invalid).</summary>
    BareCarriageReturn,

    /// <summary>The Host field, or the authority of an absolute-form target, is not <c>host[:port]</c> (RFC 9110 §7.2, RFC 3986 §3.2.2): a space, userinfo, quotes, a bad port.</summary>
    InvalidHost,

    /// <summary>A chunk extension holds a control character (RFC 9112 §7.1.1).</summary>
    InvalidChunkExtension,
}
