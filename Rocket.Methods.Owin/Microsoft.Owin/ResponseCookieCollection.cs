using System.Globalization;
using System.Text;

namespace Microsoft.Owin;

/// <summary>Adds Set-Cookie headers to a response (names and values percent-encoded).</summary>
public class ResponseCookieCollection
{
    private const string SetCookie = "Set-Cookie";

    /// <summary>Writes into <paramref name="headers"/>.</summary>
    public ResponseCookieCollection(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Headers = headers;
    }

    private IHeaderDictionary Headers { get; }

    /// <summary>Sets a cookie with path "/".</summary>
    public void Append(string key, string value)
        => Headers.AppendValues(SetCookie, Uri.EscapeDataString(key) + "=" + Uri.EscapeDataString(value ?? string.Empty) + "; path=/");

    /// <summary>Sets a cookie with the given attributes.</summary>
    public void Append(string key, string value, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Headers.AppendValues(SetCookie, Uri.EscapeDataString(key) + "=" + Uri.EscapeDataString(value ?? string.Empty) + Attributes(options));
    }

    /// <summary>The Set-Cookie attributes after the value (<c>; domain=...; path=...; expires=...; secure; HttpOnly</c>).</summary>
    internal static string Attributes(CookieOptions options)
    {
        var sb = new StringBuilder();
        if (!string.IsNullOrEmpty(options.Domain))
        {
            sb.Append("; domain=").Append(options.Domain);
        }

        if (!string.IsNullOrEmpty(options.Path))
        {
            sb.Append("; path=").Append(options.Path);
        }

        if (options.Expires is { } expires)
        {
            sb.Append("; expires=").Append(expires.ToUniversalTime().ToString("ddd, dd-MMM-yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture));
        }

        if (options.Secure)
        {
            sb.Append("; secure");
        }

        if (options.HttpOnly)
        {
            sb.Append("; HttpOnly");
        }

        return sb.ToString();
    }

    /// <summary>Expires the cookie at the client (and drops any Set-Cookie for it already added).</summary>
    public void Delete(string key) => Delete(key, new CookieOptions());

    /// <summary>Expires the cookie with the given domain and path.</summary>
    public void Delete(string key, CookieOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefix = Uri.EscapeDataString(key) + "=";
        if (Headers.GetValues(SetCookie) is { } existing)
        {
            var kept = existing.Where(v => !v.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (kept.Length == 0)
            {
                Headers.Remove(SetCookie);
            }
            else
            {
                Headers.SetValues(SetCookie, kept);
            }
        }

        Append(key, string.Empty, new CookieOptions
        {
            Domain = options.Domain,
            Path = options.Path,
            Expires = DateTime.UnixEpoch,
            Secure = options.Secure,
            HttpOnly = options.HttpOnly,
        });
    }
}
