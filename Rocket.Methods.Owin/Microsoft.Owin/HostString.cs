using System.Globalization;

namespace Microsoft.Owin;

/// <summary>
/// The Host header's value (host and optional port) unescaped; <see cref="ToUriComponent"/> converts an
/// internationalised host name to its punycode form for use in a URI. Comparisons ignore case.
/// </summary>
public readonly struct HostString : IEquatable<HostString>
{
    private static readonly IdnMapping Idn = new();
    private readonly string? _value;

    /// <summary>Creates a host string from its unescaped value (e.g. <c>example.com:8080</c>).</summary>
    public HostString(string? value) => _value = value;

    /// <summary>The unescaped host and port.</summary>
    public string? Value => _value;

    /// <summary>Compares ignoring case.</summary>
    public static bool operator ==(HostString left, HostString right) => left.Equals(right);

    /// <summary>Compares ignoring case.</summary>
    public static bool operator !=(HostString left, HostString right) => !left.Equals(right);

    /// <summary>Creates a host string from its URI form (punycode names are decoded).</summary>
    public static HostString FromUriComponent(string uriComponent)
    {
        if (string.IsNullOrEmpty(uriComponent) || !uriComponent.Contains("xn--", StringComparison.OrdinalIgnoreCase))
        {
            return new HostString(uriComponent);
        }

        var (host, port) = Split(uriComponent);
        return new HostString(Idn.GetUnicode(host) + port);
    }

    /// <summary>The authority of an absolute URI.</summary>
    public static HostString FromUriComponent(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return new HostString(uri.GetComponents(UriComponents.NormalizedHost | UriComponents.HostAndPort, UriFormat.Unescaped));
    }

    /// <summary>The value for a URI.</summary>
    public override string ToString() => ToUriComponent();

    /// <summary>The value for a URI: ASCII as is, other host names in punycode, a bare IPv6 address in brackets (RFC 3986 §3.2.2).</summary>
    public string ToUriComponent()
    {
        if (string.IsNullOrEmpty(_value) || _value.Contains('[', StringComparison.Ordinal))
        {
            return _value ?? string.Empty;
        }

        // Two colons or more can only be an IPv6 address without its brackets (and so without a port).
        var colon = _value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0 && _value.IndexOf(':', colon + 1) >= 0)
        {
            return "[" + _value + "]";
        }

        if (System.Text.Ascii.IsValid(_value))
        {
            return _value;
        }

        var (host, port) = Split(_value);
        return Idn.GetAscii(host) + port;
    }

    /// <inheritdoc />
    public bool Equals(HostString other) => string.Equals(_value, other._value, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is HostString other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(_value);

    private static (string Host, string Port) Split(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon < 0 ? (value, string.Empty) : (value[..colon], value[colon..]);
    }
}
