namespace Microsoft.Owin;

/// <summary>
/// A request path or path base, held unescaped (as OWIN's <c>owin.RequestPath</c>), with the escaping needed
/// to put it back into a URI. Katana's semantics: an empty value or one starting with '/', comparisons ignore case.
/// </summary>
public readonly struct PathString : IEquatable<PathString>
{
    /// <summary>The empty path.</summary>
    public static readonly PathString Empty = new(string.Empty);

    private readonly string? _value;

    /// <summary>Creates a path from its unescaped value (use <see cref="FromUriComponent(string)"/> for an escaped one).</summary>
    /// <exception cref="ArgumentException">The value is neither empty nor starting with '/'.</exception>
    public PathString(string? value)
    {
        if (!string.IsNullOrEmpty(value) && value[0] != '/')
        {
            throw new ArgumentException($"The path '{value}' must start with '/'.", nameof(value));
        }

        _value = value;
    }

    /// <summary>The unescaped path.</summary>
    public string? Value => _value;

    /// <summary>True when the path is not empty.</summary>
    public bool HasValue => !string.IsNullOrEmpty(_value);

    /// <summary>Compares ignoring case (Katana's default).</summary>
    public static bool operator ==(PathString left, PathString right) => left.Equals(right);

    /// <summary>Compares ignoring case (Katana's default).</summary>
    public static bool operator !=(PathString left, PathString right) => !left.Equals(right);

    /// <summary>Concatenates two paths.</summary>
    public static PathString operator +(PathString left, PathString right) => left.Add(right);

    /// <summary>Joins a path and a query into an escaped URI string.</summary>
    public static string operator +(PathString left, QueryString right) => left.Add(right);

    /// <summary>Creates a path from its escaped URI form.</summary>
    public static PathString FromUriComponent(string uriComponent)
    {
        ArgumentNullException.ThrowIfNull(uriComponent);
        return new PathString(Uri.UnescapeDataString(uriComponent));
    }

    /// <summary>Creates a path from an absolute URI's path.</summary>
    public static PathString FromUriComponent(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return new PathString("/" + uri.GetComponents(UriComponents.Path, UriFormat.Unescaped));
    }

    /// <summary>The path escaped for a URI.</summary>
    public override string ToString() => ToUriComponent();

    /// <summary>
    /// The path escaped for a URI as Katana did: characters allowed in a path (RFC 3986 §3.3 <c>pchar</c> and '/')
    /// and existing <c>%XX</c> escapes are kept; every other character is percent-encoded as UTF-8.
    /// </summary>
    public string ToUriComponent()
    {
        if (!HasValue)
        {
            return string.Empty;
        }

        var value = _value!;
        System.Text.StringBuilder? escaped = null;
        var kept = 0;
        var i = 0;
        while (i < value.Length)
        {
            if (IsPathChar(value[i]) || IsPercentEscape(value, i))
            {
                i += value[i] == '%' ? 3 : 1;
                continue;
            }

            var run = i;
            while (i < value.Length && !IsPathChar(value[i]) && !IsPercentEscape(value, i))
            {
                i++;
            }

            escaped ??= new System.Text.StringBuilder(value.Length + 16);
            escaped.Append(value, kept, run - kept).Append(Uri.EscapeDataString(value[run..i]));
            kept = i;
        }

        return escaped is null ? value : escaped.Append(value, kept, value.Length - kept).ToString();
    }

    /// <summary>True when this path equals <paramref name="other"/> or continues it at a segment boundary.</summary>
    public bool StartsWithSegments(PathString other) => StartsWithSegments(other, out _);

    /// <summary>As <see cref="StartsWithSegments(PathString)"/>, giving the rest of this path after <paramref name="other"/>.</summary>
    public bool StartsWithSegments(PathString other, out PathString remaining)
    {
        var value = _value ?? string.Empty;
        var prefix = other._value ?? string.Empty;
        if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && (value.Length == prefix.Length || value[prefix.Length] == '/'))
        {
            remaining = new PathString(value[prefix.Length..]);
            return true;
        }

        remaining = Empty;
        return false;
    }

    /// <summary>Concatenates two paths.</summary>
    public PathString Add(PathString other) => new(_value + other._value);

    /// <summary>Joins this path and a query into an escaped URI string.</summary>
    public string Add(QueryString other) => ToUriComponent() + other.ToUriComponent();

    /// <summary>Compares ignoring case.</summary>
    public bool Equals(PathString other) => Equals(other, StringComparison.OrdinalIgnoreCase);

    /// <summary>Compares with the given comparison.</summary>
    public bool Equals(PathString other, StringComparison comparisonType) => string.Equals(_value, other._value, comparisonType);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PathString other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(_value);

    // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus the segment separator.
    private static bool IsPathChar(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '/'
            or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@';

    private static bool IsPercentEscape(string value, int i)
        => value[i] == '%' && i + 2 < value.Length && char.IsAsciiHexDigit(value[i + 1]) && char.IsAsciiHexDigit(value[i + 2]);
}
