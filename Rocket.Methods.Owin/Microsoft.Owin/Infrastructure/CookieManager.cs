namespace Microsoft.Owin.Infrastructure;

/// <summary>The plain <see cref="ICookieManager"/>: the request's <see cref="IOwinRequest.Cookies"/> and the response's <see cref="IOwinResponse.Cookies"/>.</summary>
public class CookieManager : ICookieManager
{
    /// <inheritdoc />
    public string? GetRequestCookie(IOwinContext context, string key)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Cookies[key];
    }

    /// <inheritdoc />
    public void AppendResponseCookie(IOwinContext context, string key, string? value, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Append(key, value!, options);
    }

    /// <inheritdoc />
    public void DeleteCookie(IOwinContext context, string key, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(key, options);
    }
}
