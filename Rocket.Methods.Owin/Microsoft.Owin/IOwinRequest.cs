using System.Security.Principal;

namespace Microsoft.Owin;

/// <summary>Typed access to the request half of an OWIN environment (Katana's IOwinRequest).</summary>
public interface IOwinRequest
{
    /// <summary>The OWIN environment.</summary>
    IDictionary<string, object> Environment { get; }

    /// <summary>The context this request belongs to.</summary>
    IOwinContext Context { get; }

    /// <summary>owin.RequestMethod.</summary>
    string Method { get; set; }

    /// <summary>owin.RequestScheme (<c>http</c> or <c>https</c>).</summary>
    string Scheme { get; set; }

    /// <summary>True for https.</summary>
    bool IsSecure { get; }

    /// <summary>The Host header.</summary>
    HostString Host { get; set; }

    /// <summary>owin.RequestPathBase (unescaped).</summary>
    PathString PathBase { get; set; }

    /// <summary>owin.RequestPath (unescaped).</summary>
    PathString Path { get; set; }

    /// <summary>owin.RequestQueryString (escaped, no '?').</summary>
    QueryString QueryString { get; set; }

    /// <summary>The parsed query.</summary>
    IReadableStringCollection Query { get; }

    /// <summary>The full request URI.</summary>
    Uri Uri { get; }

    /// <summary>owin.RequestProtocol, e.g. <c>HTTP/1.1</c>.</summary>
    string Protocol { get; set; }

    /// <summary>The request headers.</summary>
    IHeaderDictionary Headers { get; }

    /// <summary>The request's cookies.</summary>
    RequestCookieCollection Cookies { get; }

    /// <summary>The Content-Type header.</summary>
    string? ContentType { get; set; }

    /// <summary>The Cache-Control header.</summary>
    string? CacheControl { get; set; }

    /// <summary>The Media-Type header.</summary>
    string? MediaType { get; set; }

    /// <summary>The Accept header.</summary>
    string? Accept { get; set; }

    /// <summary>owin.RequestBody.</summary>
    Stream Body { get; set; }

    /// <summary>owin.CallCancelled: signalled when the client goes away.</summary>
    CancellationToken CallCancelled { get; set; }

    /// <summary>server.LocalIpAddress.</summary>
    string? LocalIpAddress { get; set; }

    /// <summary>server.LocalPort as a number.</summary>
    int? LocalPort { get; set; }

    /// <summary>server.RemoteIpAddress.</summary>
    string? RemoteIpAddress { get; set; }

    /// <summary>server.RemotePort as a number.</summary>
    int? RemotePort { get; set; }

    /// <summary>server.User.</summary>
    IPrincipal? User { get; set; }

    /// <summary>Reads and parses an <c>application/x-www-form-urlencoded</c> body (once; later calls return the same fields).</summary>
    Task<IFormCollection> ReadFormAsync();

    /// <summary>The environment value under <paramref name="key"/>, or default.</summary>
    T? Get<T>(string key);

    /// <summary>Sets an environment value; returns this request.</summary>
    IOwinRequest Set<T>(string key, T value);
}
