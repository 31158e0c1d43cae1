using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// The parsed request line and header section of one request, plus what the base class worked out from
/// them (framing, keep-alive, 100-continue).
/// </summary>
/// <remarks>
/// Belongs to one connection and is refilled for each request: a handler reads it during its request.
/// Strings repeated from the previous request on the connection are reused, not reallocated.
/// </remarks>
public sealed class RequestHead
{
    private string _lastTarget = string.Empty;

    /// <summary>The method, e.g. <c>GET</c> (case-sensitive, RFC 9110 §9.1).</summary>
    public string Method { get; internal set; } = string.Empty;

    /// <summary>The request-target exactly as sent, e.g. <c>/a%20b?x=1</c>.</summary>
    public string Target { get; private set; } = string.Empty;

    /// <summary>The path, percent-decoded as UTF-8 (an encoded slash, <c>%2F</c>, stays encoded so segments keep their meaning).</summary>
    public string Path { get; private set; } = string.Empty;

    /// <summary>The path as sent, still percent-encoded.</summary>
    public string RawPath { get; private set; } = string.Empty;

    /// <summary>The query after '?', still encoded, without the '?'; empty when there is none.</summary>
    public string QueryString { get; private set; } = string.Empty;

    /// <summary>The version.</summary>
    public HttpVersion Version { get; internal set; }

    /// <summary><c>HTTP/1.0</c> or <c>HTTP/1.1</c>.</summary>
    public string Protocol => Version == HttpVersion.Http11 ? "HTTP/1.1" : "HTTP/1.0";

    /// <summary>The header fields.</summary>
    public RequestHeaders Headers { get; } = new();

    /// <summary>The Host field (or the authority of an absolute-form target); empty when absent (HTTP/1.0).</summary>
    public string Host { get; internal set; } = string.Empty;

    /// <summary>The declared body length; null for chunked bodies. 0 when the request has no body.</summary>
    public long? ContentLength { get; internal set; }

    /// <summary>True when the body uses the chunked transfer coding.</summary>
    public bool IsChunked { get; internal set; }

    /// <summary>True when the request carries a body (chunked, or Content-Length above 0).</summary>
    public bool HasBody => IsChunked || ContentLength > 0;

    /// <summary>True when the client sent <c>Expect: 100-continue</c>; the base class answers it when the handler first reads the body.</summary>
    public bool ExpectsContinue { get; internal set; }

    /// <summary>True when the client wants the connection kept open after this response (RFC 9112 §9.3).</summary>
    public bool KeepAlive { get; internal set; }

    /// <summary>True when the client asked to switch protocols (<c>Connection: upgrade</c> with an Upgrade field).</summary>
    public bool IsUpgradeRequest { get; internal set; }

    /// <summary>Sets target, path and query, reusing the previous request's strings when the target bytes repeat.</summary>
    internal void SetTarget(ReadOnlySpan<byte> target)
    {
        if (Latin1.Equals(_lastTarget, target) && _lastTarget.Length > 0)
        {
            return;
        }

        var targetString = target.Length == 1 && target[0] == (byte)'/' ? "/" : Latin1.GetString(target);
        _lastTarget = targetString;
        Target = targetString;

        if (targetString == "*")
        {
            RawPath = Path = "*";
            QueryString = string.Empty;
            return;
        }

        var path = targetString;
        if (!path.StartsWith('/'))
        {
            // Absolute form (RFC 9112 §3.2.2): the path starts after the authority.
            var schemeEnd = path.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd > 0)
            {
                var pathStart = path.IndexOfAny(['/', '?'], schemeEnd + 3);
                path = pathStart < 0 ? "/" : path[pathStart] == '?' ? "/" + path[pathStart..] : path[pathStart..];
            }
        }

        var q = path.IndexOf('?', StringComparison.Ordinal);
        RawPath = q < 0 ? path : path[..q];
        QueryString = q < 0 ? string.Empty : path[(q + 1)..];
        Path = PathDecoder.Decode(RawPath);
    }

    /// <summary>Clears the request line when a head is refused before it was parsed (nothing of it is known).</summary>
    internal void ForgetRequestLine()
    {
        Method = string.Empty;
        _lastTarget = Target = RawPath = Path = QueryString = string.Empty;
    }

    /// <summary>Resets what is computed per request; strings kept for reuse.</summary>
    internal void Reset()
    {
        Headers.Clear();
        Host = string.Empty;
        ContentLength = null;
        IsChunked = false;
        ExpectsContinue = false;
        KeepAlive = false;
        IsUpgradeRequest = false;
    }
}
