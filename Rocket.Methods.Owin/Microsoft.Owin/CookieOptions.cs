namespace Microsoft.Owin;

/// <summary>Attributes of a cookie set with <see cref="ResponseCookieCollection.Append(string, string, CookieOptions)"/>.</summary>
public class CookieOptions
{
    /// <summary>The Domain attribute, or null.</summary>
    public string? Domain { get; set; }

    /// <summary>The Path attribute; "/" by default.</summary>
    public string? Path { get; set; } = "/";

    /// <summary>The Expires attribute, or null for a session cookie.</summary>
    public DateTime? Expires { get; set; }

    /// <summary>The Secure attribute.</summary>
    public bool Secure { get; set; }

    /// <summary>The HttpOnly attribute.</summary>
    public bool HttpOnly { get; set; }
}
