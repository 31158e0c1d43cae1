using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// owin.RequestHeaders over Rocket's parsed <see cref="RequestHeaders"/>: lookups ignore case and read the
/// parser's strings in place; the first change copies the headers into a dictionary (reused per connection).
/// </summary>
/// <remarks>One per environment (per connection), reset for every request; not thread-safe.</remarks>
internal sealed class RequestHeadersDictionary : IDictionary<string, string[]>
{
    private readonly Dictionary<string, string[]> _copy = new(StringComparer.OrdinalIgnoreCase);
    private RequestHeaders? _source;
    private bool _copied;

    // Single-value arrays handed out last time, by field index: a client repeating a header (same string
    // instance from the parser) gets the same array back instead of a new one per lookup.
    private string[]?[] _arrays = new string[16][];

    public int Count => _copied ? _copy.Count : DistinctNames().Count();

    public bool IsReadOnly => false;

    public ICollection<string> Keys => _copied ? _copy.Keys : DistinctNames().ToList();

    public ICollection<string[]> Values => _copied ? _copy.Values : DistinctNames().Select(n => Source.GetValues(n)).ToList();

    private RequestHeaders Source => _source ?? throw new InvalidOperationException("The request is over.");

    public string[] this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The request has no '{key}' header.");
        set => Writable()[key] = value ?? throw new ArgumentNullException(nameof(value));
    }

    public void Reset(RequestHeaders source)
    {
        _source = source;
        _copied = false;
    }

    /// <summary>At a 101: the headers are copied (the parser's strings array is the server's again, for other requests).</summary>
    public void Detach()
    {
        Writable();
        _source = null;
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_copied)
        {
            return _copy.TryGetValue(key, out value);
        }

        var source = Source;
        var first = -1;
        var count = 0;
        for (var i = 0; i < source.Count; i++)
        {
            if (string.Equals(source.NameAt(i), key, StringComparison.OrdinalIgnoreCase))
            {
                first = first < 0 ? i : first;
                count++;
            }
        }

        value = count switch
        {
            0 => null,
            1 => SingleValue(first, source.ValueAt(first)),
            _ => source.GetValues(key),
        };
        return value is not null;
    }

    public bool ContainsKey(string key) => _copied ? _copy.ContainsKey(key) : Source.Contains(key);

    public void Add(string key, string[] value) => Writable().Add(key, value);

    public bool Remove(string key) => Writable().Remove(key);

    public void Add(KeyValuePair<string, string[]> item) => Add(item.Key, item.Value);

    public void Clear() => Writable().Clear();

    public bool Contains(KeyValuePair<string, string[]> item) => TryGetValue(item.Key, out var value) && ReferenceEquals(value, item.Value);

    public void CopyTo(KeyValuePair<string, string[]>[] array, int arrayIndex)
    {
        foreach (var pair in this)
        {
            array[arrayIndex++] = pair;
        }
    }

    public bool Remove(KeyValuePair<string, string[]> item) => Contains(item) && Remove(item.Key);

    public IEnumerator<KeyValuePair<string, string[]>> GetEnumerator()
    {
        if (_copied)
        {
            foreach (var pair in _copy)
            {
                yield return pair;
            }

            yield break;
        }

        foreach (var name in DistinctNames())
        {
            yield return new KeyValuePair<string, string[]>(name, Source.GetValues(name));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string[] SingleValue(int index, string value)
    {
        if (index >= _arrays.Length)
        {
            Array.Resize(ref _arrays, Math.Max(index + 1, _arrays.Length * 2));
        }

        var array = _arrays[index];
        if (array is not null && ReferenceEquals(array[0], value))
        {
            return array;
        }

        return _arrays[index] = [value];
    }

    private IEnumerable<string> DistinctNames()
    {
        var source = Source;
        for (var i = 0; i < source.Count; i++)
        {
            var name = source.NameAt(i);
            var seen = false;
            for (var j = 0; j < i && !seen; j++)
            {
                seen = string.Equals(source.NameAt(j), name, StringComparison.OrdinalIgnoreCase);
            }

            if (!seen)
            {
                yield return name;
            }
        }
    }

    private Dictionary<string, string[]> Writable()
    {
        if (!_copied)
        {
            _copy.Clear();
            foreach (var name in DistinctNames())
            {
                _copy[name] = Source.GetValues(name);
            }

            _copied = true;
        }

        return _copy;
    }
}
