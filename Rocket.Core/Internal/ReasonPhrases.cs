using System.Collections.Frozen;
using System.Text;

namespace RocketOwin.Internal;

/// <summary>RFC 9110 §15 reason phrases, and pre-encoded HTTP/1.1 status lines for them.</summary>
internal static class ReasonPhrases
{
    private static readonly FrozenDictionary<int, string> Phrases = new Dictionary<int, string>
    {
        [100] = "Continue", [101] = "Switching Protocols", [102] = "Processing", [103] = "Early Hints",
        [200] = "OK", [201] = "Created", [202] = "Accepted", [203] = "Non-Authoritative Information", [204] = "No Content",
        [205] = "Reset Content", [206] = "Partial Content", [207] = "Multi-Status",
        [300] = "Multiple Choices", [301] = "Moved Permanently", [302] = "Found", [303] = "See Other", [304] = "Not Modified",
        [305] = "Use Proxy", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
        [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden", [404] = "Not Found",
        [405] = "Method Not Allowed", [406] = "Not Acceptable", [407] = "Proxy Authentication Required", [408] = "Request Timeout",
        [409] = "Conflict", [410] = "Gone", [411] = "Length Required", [412] = "Precondition Failed", [413] = "Content Too Large",
        [414] = "URI Too Long", [415] = "Unsupported Media Type", [416] = "Range Not Satisfiable", [417] = "Expectation Failed",
        [421] = "Misdirected Request", [422] = "Unprocessable Content", [426] = "Upgrade Required", [428] = "Precondition Required",
        [429] = "Too Many Requests", [431] = "Request Header Fields Too Large", [451] = "Unavailable For Legal Reasons",
        [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
        [504] = "Gateway Timeout", [505] = "HTTP Version Not Supported", [511] = "Network Authentication Required",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<int, byte[]> StatusLines =
        Phrases.ToFrozenDictionary(p => p.Key, p => Encoding.ASCII.GetBytes($"HTTP/1.1 {p.Key} {p.Value}\r\n"));

    public static string Get(int statusCode) => Phrases.TryGetValue(statusCode, out var p) ? p : string.Empty;

    /// <summary>The encoded <c>HTTP/1.1 code phrase\r\n</c> line for a standard code, or null.</summary>
    public static byte[]? GetStatusLine(int statusCode) => StatusLines.TryGetValue(statusCode, out var line) ? line : null;
}
