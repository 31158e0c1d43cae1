using System.Collections;
using System.Text;
using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// The header fields of one request, in arrival order. Lookups ignore case. Duplicate fields are kept as
/// separate entries; <see cref="GetCombined"/> joins them with ", " as RFC 9110 §5.3 allows.
/// </summary>
/// <remarks>
/// One instance belongs to one connection and is refilled for each request on it: read it during the
/// request, copy what must outlive it. Strings equal to the previous request's are reused, so a client
/// repeating its headers costs no allocation.
/// </remarks>
public sealed class RequestHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private string[] _names = new string[16];
    private string[] _values = new string[16];
    private int _count;

    /// <summary>Number of field lines.</summary>
    public int Count => _count;

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? this[string name] => TryGetValue(name, out var value) ? value : null;

    /// <summary>The name of the field at <paramref name="index"/> (as sent, but a known name in its canonical case).</summary>
    public string NameAt(int index) => (uint)index < (uint)_count ? _names[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The value of the field at <paramref name="index"/>, leading and trailing whitespace removed.</summary>
    public string ValueAt(int index) => (uint)index < (uint)_count ? _values[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Finds the first field named <paramref name="name"/> (case-insensitive).</summary>
    public bool TryGetValue(string name, out string value)
    {
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                value = _values[i];
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    /// <summary>True when a field named <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => TryGetValue(name, out _);

    /// <summary>How many field lines carry <paramref name="name"/>.</summary>
    public int CountOf(string name)
    {
        var n = 0;
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>All values of <paramref name="name"/> joined with ", ", or null when absent.</summary>
    public string? GetCombined(string name)
    {
        string? first = null;
        StringBuilder? sb = null;
        for (var i = 0; i < _count; i++)
        {
            if (!string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (first is null)
            {
                first = _values[i];
            }
            else
            {
                sb ??= new StringBuilder(first);
                sb.Append(", ").Append(_values[i]);
            }
        }

        return sb?.ToString() ?? first;
    }

    /// <summary>All values of <paramref name="name"/>, one per field line.</summary>
    public string[] GetValues(string name)
    {
        var n = CountOf(name);
        if (n == 0)
        {
            return [];
        }

        var result = new string[n];
        var j = 0;
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                result[j++] = _values[i];
            }
        }

        return result;
    }

    /// <summary>Enumerates the fields in arrival order without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void Clear() => _count = 0;

    /// <summary>An upgraded connection keeps its request's fields for as long as it lives: no spare slots.</summary>
    internal void Trim()
    {
        Array.Resize(ref _names, _count);
        Array.Resize(ref _values, _count);
    }

    /// <summary>Appends a field from raw bytes, reusing the previous request's strings when the bytes match.</summary>
    internal void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_count == _names.Length)
        {
            Array.Resize(ref _names, Math.Max(16, _count * 2));
            Array.Resize(ref _values, Math.Max(16, _count * 2));
        }

        var i = _count++;
        var previousName = _names[i];
        _names[i] = previousName is not null && Latin1.Equals(previousName, name)
            ? previousName
            : KnownHeaders.GetName(name);
        var previousValue = _values[i];
        _values[i] = previousValue is not null && Latin1.Equals(previousValue, value)
            ? previousValue
            : Latin1.GetString(value);
    }

    /// <summary>A struct enumerator over the fields.</summary>
    public struct Enumerator : IEnumerator<KeyValuePair<string, string>>
    {
        private readonly RequestHeaders _headers;
        private int _index;

        internal Enumerator(RequestHeaders headers)
        {
            _headers = headers;
            _index = -1;
        }

        /// <inheritdoc />
        public readonly KeyValuePair<string, string> Current => new(_headers._names[_index], _headers._values[_index]);

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc />
        public bool MoveNext() => ++_index < _headers._count;

        /// <inheritdoc />
        public void Reset() => _index = -1;

        /// <inheritdoc />
        public readonly void Dispose()
        {
        }
    }
}
