using System.Collections;

namespace Microsoft.Owin;

/// <summary>The cookies a request carried (parsed from its Cookie header as Katana did; the first of a repeated name wins).</summary>
public class RequestCookieCollection : IEnumerable<KeyValuePair<string, string>>
{
    /// <summary>Wraps parsed cookies.</summary>
    public RequestCookieCollection(IDictionary<string, string> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
    }

    /// <summary>Number of cookies.</summary>
    public int Count => Store.Count;

    /// <summary>Cookie names.</summary>
    public ICollection<string> Keys => Store.Keys;

    private IDictionary<string, string> Store { get; }

    /// <summary>The cookie's value, or null.</summary>
    public string? this[string key] => Store.TryGetValue(key, out var value) ? value : null;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Store.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Parses the Cookie header (its values joined with ','): <c>a=1; b=2</c>, values percent-decoded, names as sent.</summary>
    internal static RequestCookieCollection Parse(string? header)
    {
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        if (header is not null)
        {
            FormParser.ParseCookies(header, store);
        }

        return new RequestCookieCollection(store);
    }
}
