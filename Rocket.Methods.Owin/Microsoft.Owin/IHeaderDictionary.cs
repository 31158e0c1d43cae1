namespace Microsoft.Owin;

/// <summary>Request or response headers: OWIN's <c>IDictionary&lt;string, string[]&gt;</c> with Katana's helpers.</summary>
public interface IHeaderDictionary : IReadableStringCollection, IDictionary<string, string[]>
{
    /// <summary>Gets the values joined with ',' (null when absent); setting replaces them (null or empty removes).</summary>
    new string? this[string key] { get; set; }

    /// <summary>The values split at commas (quoted strings kept whole, their quotes removed), or null when absent.</summary>
    IList<string>? GetCommaSeparatedValues(string key);

    /// <summary>Appends <paramref name="value"/> to the existing value with a ','; null or whitespace appends nothing.</summary>
    void Append(string key, string? value);

    /// <summary>Appends values as further entries; null or none appends nothing.</summary>
    void AppendValues(string key, params string[]? values);

    /// <summary>Appends values to the existing value, comma-separated (quoting those containing commas); null or none appends nothing.</summary>
    void AppendCommaSeparatedValues(string key, params string[]? values);

    /// <summary>Replaces the values with one (null or empty removes the header).</summary>
    void Set(string key, string? value);

    /// <summary>Replaces the values (null or none removes the header).</summary>
    void SetValues(string key, params string[]? values);

    /// <summary>Replaces the values with one comma-separated value (null or none removes the header).</summary>
    void SetCommaSeparatedValues(string key, params string[]? values);
}
