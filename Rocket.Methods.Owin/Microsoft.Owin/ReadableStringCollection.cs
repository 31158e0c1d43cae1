using System.Collections;

namespace Microsoft.Owin;

/// <summary>An <see cref="IReadableStringCollection"/> over a dictionary (names ignore case when the dictionary's comparer does).</summary>
public class ReadableStringCollection : IReadableStringCollection
{
    /// <summary>Wraps <paramref name="store"/>.</summary>
    public ReadableStringCollection(IDictionary<string, string[]> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
    }

    private IDictionary<string, string[]> Store { get; }

    /// <inheritdoc />
    public string? this[string key] => Get(key);

    /// <inheritdoc />
    public string? Get(string key) => Store.TryGetValue(key, out var values) && values is not null ? string.Join(',', values) : null;

    /// <inheritdoc />
    public IList<string>? GetValues(string key) => Store.TryGetValue(key, out var values) ? values : null;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string[]>> GetEnumerator() => Store.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
