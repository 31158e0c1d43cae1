namespace Microsoft.Owin;

/// <summary>Read-only name to values collection (query strings, form fields, headers).</summary>
public interface IReadableStringCollection : IEnumerable<KeyValuePair<string, string[]>>
{
    /// <summary>The values of <paramref name="key"/> joined with ',' or null when absent.</summary>
    string? this[string key] { get; }

    /// <summary>The values of <paramref name="key"/> joined with ',' or null when absent.</summary>
    string? Get(string key);

    /// <summary>The values of <paramref name="key"/>, or null when absent.</summary>
    IList<string>? GetValues(string key);
}
