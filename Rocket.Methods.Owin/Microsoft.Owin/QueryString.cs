namespace Microsoft.Owin;

/// <summary>
/// A request's query string as it appears in the URI (still escaped), without the leading '?'
/// (OWIN's <c>owin.RequestQueryString</c>). <see cref="ToString"/> and <see cref="ToUriComponent"/> add the '?'.
/// </summary>
public readonly struct QueryString : IEquatable<QueryString>
{
    /// <summary>No query.</summary>
    public static readonly QueryString Empty = new(string.Empty);

    private readonly string? _value;

    /// <summary>Creates a query string from its escaped value, without a leading '?'.</summary>
    public QueryString(string? value) => _value = value;

    /// <summary>Creates <c>name=value</c>, both escaped.</summary>
    public QueryString(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        _value = Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);
    }

    /// <summary>The escaped query without '?'.</summary>
    public string? Value => _value;

    /// <summary>True when there is a query.</summary>
    public bool HasValue => !string.IsNullOrWhiteSpace(_value);

    /// <summary>Compares ordinally.</summary>
    public static bool operator ==(QueryString left, QueryString right) => left.Equals(right);

    /// <summary>Compares ordinally.</summary>
    public static bool operator !=(QueryString left, QueryString right) => !left.Equals(right);

    /// <summary>Creates <c>name=value</c>, both escaped.</summary>
    public static QueryString Create(string name, string value) => new(name, value);

    /// <summary>Parses the query part of a URI, which starts with '?' unless empty.</summary>
    /// <exception cref="ArgumentException">The text is not empty and does not start with '?' (as Katana).</exception>
    public static QueryString FromUriComponent(string uriComponent)
    {
        if (string.IsNullOrEmpty(uriComponent))
        {
            return Empty;
        }

        if (uriComponent[0] != '?')
        {
            throw new ArgumentException($"The query string '{uriComponent}' must start with '?'.", nameof(uriComponent));
        }

        return new QueryString(uriComponent[1..]);
    }

    /// <summary>The query of an absolute URI.</summary>
    public static QueryString FromUriComponent(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return new QueryString(uri.GetComponents(UriComponents.Query, UriFormat.UriEscaped));
    }

    /// <summary>'?' and the query, or empty.</summary>
    public override string ToString() => ToUriComponent();

    /// <summary>'?' and the query, or empty; a '#' in the query is escaped so it cannot start a fragment (as Katana).</summary>
    public string ToUriComponent() => HasValue ? "?" + _value!.Replace("#", "%23", StringComparison.Ordinal) : string.Empty;

    /// <inheritdoc />
    public bool Equals(QueryString other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is QueryString other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);
}
