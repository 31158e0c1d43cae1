using System.Collections;

namespace Microsoft.Owin;

/// <summary>The cookies a request carried (parsed from its Cookie headers; the first of a repeated name wins).</summary>
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

    /// <summary>Parses Cookie header values: <c>a=1; b=2</c>, names and values percent-decoded.</summary>
    internal static RequestCookieCollection Parse(IList<string>? headerValues)
    {
        var store = new Dictionary<string, string>(StringComparer.Ordinal);
        if (headerValues is not null)
        {
            foreach (var header in headerValues)
            {
                foreach (var part in header.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var eq = part.IndexOf('=', StringComparison.Ordinal);
                    var name = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]).Trim();
                    var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Trim().Trim('"'));
                    if (name.Length > 0)
                    {
                        store.TryAdd(name, value);
                    }
                }
            }
        }

        return new RequestCookieCollection(store);
    }
}
