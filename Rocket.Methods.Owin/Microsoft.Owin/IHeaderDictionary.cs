namespace Microsoft.Owin;

/// <summary>Request or response headers: OWIN's <c>IDictionary&lt;string, string[]&gt;</c> with Katana's helpers.</summary>
public interface IHeaderDictionary : IReadableStringCollection, IDictionary<string, string[]>
{
    /// <summary>Gets the values joined with ',' (null when absent); setting replaces them (null or empty removes).</summary>
    new string? this[string key] { get; set; }

    /// <summary>The values split at commas (quoted strings kept whole).</summary>
    IList<string>? GetCommaSeparatedValues(string key);

    /// <summary>Appends <paramref name="value"/> to the existing value with a ','.</summary>
    void Append(string key, string value);

    /// <summary>Appends values as further entries.</summary>
    void AppendValues(string key, params string[] values);

    /// <summary>Appends values to the existing value, comma-separated (quoting those containing commas).</summary>
    void AppendCommaSeparatedValues(string key, params string[] values);

    /// <summary>Replaces the values with one (null or empty removes the header).</summary>
    void Set(string key, string? value);

    /// <summary>Replaces the values.</summary>
    void SetValues(string key, params string[] values);

    /// <summary>Replaces the values with one comma-separated value.</summary>
    void SetCommaSeparatedValues(string key, params string[] values);
}
