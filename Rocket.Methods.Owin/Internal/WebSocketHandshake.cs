using System.Security.Cryptography;
using System.Text;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>What an upgrade request asks for, judged by RFC 6455 §4.2.1.</summary>
internal enum WebSocketRequestKind
{
    /// <summary>Not a WebSocket handshake (no <c>Upgrade: websocket</c> on an HTTP/1.1 upgrade request).</summary>
    NotWebSocket,

    /// <summary>A valid version-13 handshake: <c>websocket.Accept</c> is offered.</summary>
    Valid,

    /// <summary>A version other than 13: 426 with <c>Sec-WebSocket-Version: 13</c> (RFC 6455 §4.2.2).</summary>
    UnsupportedVersion,

    /// <summary>Not GET, or the key is missing or not 16 base64-encoded bytes: 400 (RFC 6455 §4.2.1).</summary>
    Malformed,
}

/// <summary>The server's half of the RFC 6455 opening handshake: checking the request and computing the answer's fields.</summary>
internal static class WebSocketHandshake
{
    /// <summary>The only version RFC 6455 defines (§4.1, §11.6).</summary>
    public const string SupportedVersion = "13";

    // RFC 6455 §1.3: the GUID appended to the key before hashing.
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static WebSocketRequestKind Classify(RequestHead request)
    {
        var headers = request.Headers;
        if (!request.IsUpgradeRequest || !HasToken(headers.GetCombined("Upgrade"), "websocket"))
        {
            return WebSocketRequestKind.NotWebSocket;
        }

        // RFC 6455 §4.2.1 (1): the handshake is a GET.
        if (request.Method != "GET")
        {
            return WebSocketRequestKind.Malformed;
        }

        // §4.2.1 (6) and §4.2.2: a version we do not speak is answered with the one we do.
        if (headers.GetCombined("Sec-WebSocket-Version")?.Trim() != SupportedVersion)
        {
            return WebSocketRequestKind.UnsupportedVersion;
        }

        // §4.2.1 (5): a base64-encoded value that decodes to 16 bytes.
        var key = headers.GetCombined("Sec-WebSocket-Key")?.Trim();
        Span<byte> decoded = stackalloc byte[18];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out var n) && n == 16
            ? WebSocketRequestKind.Valid
            : WebSocketRequestKind.Malformed;
    }

    /// <summary>Sec-WebSocket-Accept for <paramref name="key"/> (RFC 6455 §4.2.2 (5.4)): base64(SHA-1(key + GUID)).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "RFC 6455 fixes SHA-1 for the handshake; it protects nothing.")]
    public static string AcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>The subprotocols the client offered in Sec-WebSocket-Protocol (RFC 6455 §4.1 (10)), in its order of preference.</summary>
    public static string[] OfferedSubProtocols(RequestHead request) => OfferedSubProtocols(request.Headers.GetCombined("Sec-WebSocket-Protocol"));

    /// <summary>The subprotocols listed in a combined Sec-WebSocket-Protocol value (none for null).</summary>
    public static string[] OfferedSubProtocols(string? offered)
        => offered?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>True when the comma-separated <paramref name="value"/> lists <paramref name="token"/> (case-insensitive).</summary>
    public static bool HasToken(string? value, string token)
    {
        if (value is null)
        {
            return false;
        }

        foreach (var range in value.AsSpan().Split(','))
        {
            if (value.AsSpan()[range].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
