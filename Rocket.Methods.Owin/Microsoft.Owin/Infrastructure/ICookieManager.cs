namespace Microsoft.Owin.Infrastructure;

/// <summary>Reads request cookies and writes response cookies for middleware (Katana's cookie-manager abstraction).</summary>
public interface ICookieManager
{
    /// <summary>The request cookie's value, or null.</summary>
    string? GetRequestCookie(IOwinContext context, string key);

    /// <summary>Adds a Set-Cookie for <paramref name="key"/>.</summary>
    void AppendResponseCookie(IOwinContext context, string key, string? value, CookieOptions options);

    /// <summary>Expires the cookie at the client.</summary>
    void DeleteCookie(IOwinContext context, string key, CookieOptions options);
}
