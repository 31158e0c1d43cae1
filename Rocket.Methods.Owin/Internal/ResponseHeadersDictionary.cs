using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// owin.ResponseHeaders over Rocket's <see cref="ResponseHeaders"/>: each string[] entry becomes one field line
/// per value. Once the response has started every change throws <see cref="InvalidOperationException"/>
/// (Rocket's headers are locked then), as OWIN asks.
/// </summary>
/// <remarks>One per environment (per connection); not thread-safe.</remarks>
internal sealed class ResponseHeadersDictionary(OwinEnvironment owner) : IDictionary<string, string[]>
{
    private ResponseHeaders? _target;

    public int Count => DistinctNames().Count();

    public bool IsReadOnly => false;

    public ICollection<string> Keys => DistinctNames().ToList();

    public ICollection<string[]> Values => DistinctNames().Select(n => Target.GetValues(n)).ToList();

    private ResponseHeaders Target => _target ?? throw new InvalidOperationException("The request is over.");

    public string[] this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The response has no '{key}' header.");
        set => Replace(key, value);
    }

    public void Reset(ResponseHeaders target) => _target = target;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var target = Target;
        if (!target.TryGetValue(key, out var first))
        {
            value = null;
            return false;
        }

        value = target.GetValues(key);
        if (value.Length == 0)
        {
            value = [first];
        }

        return true;
    }

    public bool ContainsKey(string key) => Target.Contains(key);

    public void Add(string key, string[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        owner.ThrowIfHeadersLocked();
        if (Target.Contains(key))
        {
            throw new ArgumentException($"The response already has a '{key}' header.", nameof(key));
        }

        foreach (var v in value)
        {
            Target.Add(key, v);
        }
    }

    public bool Remove(string key)
    {
        owner.ThrowIfHeadersLocked();
        return Target.Remove(key);
    }

    public void Add(KeyValuePair<string, string[]> item) => Add(item.Key, item.Value);

    public void Clear()
    {
        owner.ThrowIfHeadersLocked();
        Target.Clear();
    }

    public bool Contains(KeyValuePair<string, string[]> item)
        => TryGetValue(item.Key, out var value) && value.AsSpan().SequenceEqual(item.Value);

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
        foreach (var name in DistinctNames().ToList())
        {
            yield return new KeyValuePair<string, string[]>(name, Target.GetValues(name));
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Replace(string key, string[] values)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(values);
        owner.ThrowIfHeadersLocked();
        var target = Target;
        if (values.Length == 1)
        {
            target.Set(key, values[0]);
            return;
        }

        target.Remove(key);
        foreach (var v in values)
        {
            target.Add(key, v);
        }
    }

    private IEnumerable<string> DistinctNames()
    {
        var target = Target;
        for (var i = 0; i < target.Count; i++)
        {
            var name = target.NameAt(i);
            var seen = false;
            for (var j = 0; j < i && !seen; j++)
            {
                seen = string.Equals(target.NameAt(j), name, StringComparison.OrdinalIgnoreCase);
            }

            if (!seen)
            {
                yield return name;
            }
        }
    }
}
