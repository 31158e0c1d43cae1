using System.Collections;

namespace RocketOwin;

/// <summary>
/// The header fields of a response, in the order they will be sent. Names ignore case. Once the
/// response has started (headers on the wire), any change throws <see cref="InvalidOperationException"/>.
/// </summary>
/// <remarks>
/// Server, Date, Content-Length/Transfer-Encoding and Connection are written by the server; a handler may
/// set Content-Length (it is then enforced) and <c>Connection: close</c>.
/// </remarks>
public sealed class ResponseHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly Response _owner;
    private string[] _names = new string[8];
    private string[] _values = new string[8];
    private int _count;

    internal ResponseHeaders(Response owner) => _owner = owner;

    /// <summary>Number of field lines.</summary>
    public int Count => _count;

    /// <summary>Gets the first value of a field, or sets it (replacing every field of that name; null removes it).</summary>
    public string? this[string name]
    {
        get => TryGetValue(name, out var v) ? v : null;
        set
        {
            if (value is null)
            {
                Remove(name);
            }
            else
            {
                Set(name, value);
            }
        }
    }

    /// <summary>Content-Type, or null.</summary>
    public string? ContentType
    {
        get => this["Content-Type"];
        set => this["Content-Type"] = value;
    }

    /// <summary>The name at <paramref name="index"/>.</summary>
    public string NameAt(int index) => (uint)index < (uint)_count ? _names[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The value at <paramref name="index"/>.</summary>
    public string ValueAt(int index) => (uint)index < (uint)_count ? _values[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Finds the first field named <paramref name="name"/>.</summary>
    public bool TryGetValue(string name, out string value)
    {
        var i = IndexOf(name, 0);
        value = i >= 0 ? _values[i] : string.Empty;
        return i >= 0;
    }

    /// <summary>True when a field named <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => IndexOf(name, 0) >= 0;

    /// <summary>All values of <paramref name="name"/>, one per field line.</summary>
    public string[] GetValues(string name)
    {
        var list = new List<string>();
        for (var i = IndexOf(name, 0); i >= 0; i = IndexOf(name, i + 1))
        {
            list.Add(_values[i]);
        }

        return [.. list];
    }

    /// <summary>Replaces every field named <paramref name="name"/> with one carrying <paramref name="value"/>.</summary>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    /// <exception cref="ArgumentException">The name is not a token, or the value contains CR, LF or NUL.</exception>
    public void Set(string name, string value)
    {
        Validate(name, value);
        var i = IndexOf(name, 0);
        if (i < 0)
        {
            Append(name, value);
            return;
        }

        _values[i] = value;
        for (var j = IndexOf(name, i + 1); j >= 0; j = IndexOf(name, j))
        {
            RemoveAt(j);
        }
    }

    /// <summary>Adds a field line, keeping any others with the same name (e.g. Set-Cookie).</summary>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    public void Add(string name, string value)
    {
        Validate(name, value);
        Append(name, value);
    }

    /// <summary>Adds a field line already validated by an earlier <see cref="Add"/> or <see cref="Set"/> (the proxy replaying a repeated upstream head).</summary>
    internal void AddValidated(string name, string value)
    {
        _owner.ThrowIfStarted();
        Append(name, value);
    }

    /// <summary>Removes every field named <paramref name="name"/>; true when one was there.</summary>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    public bool Remove(string name)
    {
        _owner.ThrowIfStarted();
        var removed = false;
        for (var i = IndexOf(name, 0); i >= 0; i = IndexOf(name, i))
        {
            RemoveAt(i);
            removed = true;
        }

        return removed;
    }

    /// <summary>Removes every field.</summary>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    public void Clear()
    {
        _owner.ThrowIfStarted();
        Reset();
    }

    /// <summary>Enumerates the fields in order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return new KeyValuePair<string, string>(_names[i], _values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void Reset()
    {
        Array.Clear(_names, 0, _count);
        Array.Clear(_values, 0, _count);
        _count = 0;
    }

    /// <summary>After a 101 has gone out the fields are never sent again: an upgraded connection keeps none of them.</summary>
    internal void Release()
    {
        _names = [];
        _values = [];
        _count = 0;
    }

    private void Append(string name, string value)
    {
        if (_count == _names.Length)
        {
            Array.Resize(ref _names, Math.Max(8, _count * 2));
            Array.Resize(ref _values, Math.Max(8, _count * 2));
        }

        _names[_count] = name;
        _values[_count] = value;
        _count++;
    }

    private void RemoveAt(int index)
    {
        _count--;
        Array.Copy(_names, index + 1, _names, index, _count - index);
        Array.Copy(_values, index + 1, _values, index, _count - index);
        _names[_count] = null!;
        _values[_count] = null!;
    }

    private int IndexOf(string name, int start)
    {
        for (var i = start; i < _count; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private void Validate(string name, string value)
    {
        _owner.ThrowIfStarted();
        ValidateField(name, value);
    }

    /// <summary>Throws unless <paramref name="name"/> is a token and <paramref name="value"/> has no CR, LF or NUL (also for interim responses' fields).</summary>
    internal static void ValidateField(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!Internal.HttpCharacters.IsToken(name))
        {
            throw new ArgumentException($"Response header name '{name}' is not a valid token (RFC 9110 §5.1).", nameof(name));
        }

        // RFC 9110 §5.5: CR, LF and NUL in a field value would split or corrupt the response.
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new ArgumentException($"Response header '{name}' has a CR, LF or NUL in its value.", nameof(value));
        }
    }
}
