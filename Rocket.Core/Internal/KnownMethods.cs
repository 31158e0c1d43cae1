namespace RocketOwin.Internal;

/// <summary>Interned strings for the standard methods (RFC 9110 §9 and PATCH), so parsing them allocates nothing.</summary>
internal static class KnownMethods
{
    public static string Get(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => "GET",
        3 when method.SequenceEqual("PUT"u8) => "PUT",
        4 when method.SequenceEqual("POST"u8) => "POST",
        4 when method.SequenceEqual("HEAD"u8) => "HEAD",
        5 when method.SequenceEqual("PATCH"u8) => "PATCH",
        5 when method.SequenceEqual("TRACE"u8) => "TRACE",
        6 when method.SequenceEqual("DELETE"u8) => "DELETE",
        7 when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
        7 when method.SequenceEqual("CONNECT"u8) => "CONNECT",
        _ => Latin1.GetString(method),
    };
}
