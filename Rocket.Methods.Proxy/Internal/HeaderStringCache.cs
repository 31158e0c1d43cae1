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

    public string Name(int index, ReadOnlySpan<byte> bytes)
    {
        if (index >= Slots)
        {
            return KnownHeaders.GetName(bytes);
        }

        if (_names[index] is { } cached && Latin1.Equals(cached, bytes))
        {
            return cached;
        }

        return _names[index] = KnownHeaders.GetName(bytes);
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
}
