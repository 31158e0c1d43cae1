using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// The strings made for the previous response's fields on one upstream connection, by position. An upstream
/// answers with the same fields in the same order most of the time (Content-Type, Content-Length, Server...),
/// so comparing the bytes with what came last time reuses the strings: no allocation for a repeated head.
/// </summary>
/// <remarks>Owned by one connection, used by one exchange at a time.</remarks>
internal sealed class HeaderStringCache
{
    private const int Slots = 32;
    private readonly string?[] _names = new string?[Slots];
    private readonly string?[] _values = new string?[Slots];
    private readonly FieldKind[] _kinds = new FieldKind[Slots];
    private readonly string?[] _copiedNames = new string?[Slots];
    private readonly string?[] _copiedValues = new string?[Slots];
    private int _copiedCount = -1;
    private int _copiedVersion;

    /// <summary>
    /// Adds the fields the last copy of head <paramref name="headVersion"/> produced, when that is what was recorded: the same
    /// head copies to the same fields (already validated by the response's Add/Set), so they are added without a second look.
    /// </summary>
    public bool TryReplay(int headVersion, ResponseHeaders headers)
    {
        if (_copiedCount < 0 || _copiedVersion != headVersion)
        {
            return false;
        }

        for (var i = 0; i < _copiedCount; i++)
        {
            headers.AddValidated(_copiedNames[i]!, _copiedValues[i]!);
        }

        return true;
    }

    /// <summary>Remembers what a copy of head <paramref name="headVersion"/> into empty <paramref name="headers"/> produced.</summary>
    public void Record(int headVersion, ResponseHeaders headers)
    {
        _copiedCount = -1;
        if (headers.Count > Slots)
        {
            return;
        }

        for (var i = 0; i < headers.Count; i++)
        {
            _copiedNames[i] = headers.NameAt(i);
            _copiedValues[i] = headers.ValueAt(i);
        }

        _copiedVersion = headVersion;
        _copiedCount = headers.Count;
    }

    /// <summary>The field name at <paramref name="index"/> as a string, and what the proxy does with it.</summary>
    public string Name(int index, ReadOnlySpan<byte> bytes, out FieldKind kind)
    {
        if (index >= Slots)
        {
            var name = KnownHeaders.GetName(bytes);
            kind = Classify(name);
            return name;
        }

        if (_names[index] is { } cached && Latin1.Equals(cached, bytes))
        {
            kind = _kinds[index];
            return cached;
        }

        var made = _names[index] = KnownHeaders.GetName(bytes);
        kind = _kinds[index] = Classify(made);
        return made;
    }

    public string Value(int index, ReadOnlySpan<byte> bytes)
    {
        if (index >= Slots)
        {
            return Latin1.GetString(bytes);
        }

        if (_values[index] is { } cached && Latin1.Equals(cached, bytes))
        {
            return cached;
        }

        return _values[index] = Latin1.GetString(bytes);
    }

    private static FieldKind Classify(string name)
    {
        if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
        {
            return FieldKind.Upgrade;
        }

        if (HeaderRules.IsHopByHop(name))
        {
            return FieldKind.HopByHop;
        }

        if (name.Equals("Via", StringComparison.OrdinalIgnoreCase))
        {
            return FieldKind.Via;
        }

        return name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) ? FieldKind.ContentLength : FieldKind.Plain;
    }
}
