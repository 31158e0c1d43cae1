using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Microsoft.Owin;

/// <summary>An <see cref="IHeaderDictionary"/> over OWIN's header dictionary (<c>owin.RequestHeaders</c> or <c>owin.ResponseHeaders</c>).</summary>
/// <remarks>Over Rocket's response headers, every change after the response started throws <see cref="InvalidOperationException"/>.</remarks>
public class HeaderDictionary : IHeaderDictionary
{
    /// <summary>Wraps <paramref name="store"/>.</summary>
    public HeaderDictionary(IDictionary<string, string[]> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
    }

    /// <inheritdoc />
    public ICollection<string> Keys => Store.Keys;

    /// <inheritdoc />
    public ICollection<string[]> Values => Store.Values;

    /// <inheritdoc />
    public int Count => Store.Count;

    /// <inheritdoc />
    public bool IsReadOnly => Store.IsReadOnly;

    private IDictionary<string, string[]> Store { get; }

    /// <inheritdoc />
    public string? this[string key]
    {
        get => Get(key);
        set => Set(key, value);
    }

    /// <inheritdoc />
    string[] IDictionary<string, string[]>.this[string key]
    {
        get => Store[key];
        set => Store[key] = value;
    }

    /// <inheritdoc />
    public string? Get(string key) => HeaderValues.Join(GetValuesUnmodified(key));

    /// <inheritdoc />
    public IList<string>? GetValues(string key) => GetValuesUnmodified(key);

    /// <inheritdoc />
    public IList<string>? GetCommaSeparatedValues(string key)
        => GetValuesUnmodified(key) is { } values ? HeaderValues.SplitCommas(values, unquote: true) : null;

    /// <inheritdoc />
    public void Append(string key, string? value)
    {
        // Katana: appending nothing (null or whitespace) leaves the header as it was.
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        var existing = Get(key);
        Set(key, existing is null ? value : existing + "," + value);
    }

    /// <inheritdoc />
    public void AppendValues(string key, params string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return;
        }

        var existing = GetValuesUnmodified(key);
        Store[key] = existing is null ? values : [.. existing, .. values];
    }

    /// <inheritdoc />
    public void AppendCommaSeparatedValues(string key, params string[]? values)
    {
        if (values is null || values.Length == 0)
        {
            return;
        }

        var existing = Get(key);
        var joined = HeaderValues.JoinQuoted(values);
        Store[key] = [existing is null ? joined : existing + "," + joined];
    }

    /// <inheritdoc />
    public void Set(string key, string? value)
    {
        ThrowIfNoKey(key);
        if (string.IsNullOrWhiteSpace(value))
        {
            Store.Remove(key);
        }
        else
        {
            Store[key] = [value];
        }
    }

    /// <inheritdoc />
    public void SetValues(string key, params string[]? values)
    {
        ThrowIfNoKey(key);

        // Katana: setting no values removes the header.
        if (values is null || values.Length == 0)
        {
            Store.Remove(key);
        }
        else
        {
            Store[key] = values;
        }
    }

    /// <inheritdoc />
    public void SetCommaSeparatedValues(string key, params string[]? values)
    {
        ThrowIfNoKey(key);
        if (values is null || values.Length == 0)
        {
            Store.Remove(key);
        }
        else
        {
            Store[key] = [HeaderValues.JoinQuoted(values)];
        }
    }

    /// <inheritdoc />
    public void Add(string key, string[] value) => Store.Add(key, value);

    /// <inheritdoc />
    public bool ContainsKey(string key) => Store.ContainsKey(key);

    /// <inheritdoc />
    public bool Remove(string key) => Store.Remove(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string[] value) => Store.TryGetValue(key, out value);

    /// <inheritdoc />
    public void Add(KeyValuePair<string, string[]> item) => Store.Add(item);

    /// <inheritdoc />
    public void Clear() => Store.Clear();

    /// <inheritdoc />
    public bool Contains(KeyValuePair<string, string[]> item) => Store.Contains(item);

    /// <inheritdoc />
    public void CopyTo(KeyValuePair<string, string[]>[] array, int arrayIndex) => Store.CopyTo(array, arrayIndex);

    /// <inheritdoc />
    public bool Remove(KeyValuePair<string, string[]> item) => Store.Remove(item);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string[]>> GetEnumerator() => Store.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void ThrowIfNoKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentNullException(nameof(key));
        }
    }

    private string[]? GetValuesUnmodified(string key) => Store.TryGetValue(key, out var values) ? values : null;
}
