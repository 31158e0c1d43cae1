using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// The session is its own WebSocketFunc environment: the extension's keys are read from the session's fields (the
/// System.Net.WebSockets.WebSocketContext adapter, websocket.CallCancelled's source and the three delegates are made on first read), so an
/// open socket holds no dictionary. Keys the application adds go to a dictionary made when the first one arrives; the
/// first time it replaces or removes one of the extension's keys, every key moves into that dictionary and stays there.
/// </summary>
internal sealed partial class WebSocketSession : IDictionary<string, object>
{
    private static readonly string[] FixedKeys =
    [
        WebSocketKeys.SendAsync, WebSocketKeys.ReceiveAsync, WebSocketKeys.CloseAsync, WebSocketKeys.CallCancelled,
        WebSocketKeys.Version, WebSocketKeys.WebSocketContext, WebSocketKeys.WebSocket,
        WebSocketKeys.ClientCloseStatus, WebSocketKeys.ClientCloseDescription,
    ];

    private Dictionary<string, object>? _extras;
    private bool _materialized;
    private WebSocketContextAdapter? _webSocketContext;
    private int? _clientCloseStatus;
    private string? _clientCloseDescription;

    public int Count => _materialized ? _extras!.Count : FixedCount + (_extras?.Count ?? 0);

    public bool IsReadOnly => false;

    public ICollection<string> Keys => this.Select(p => p.Key).ToList();

    public ICollection<object> Values => this.Select(p => p.Value).ToList();

    /// <summary>The close keys exist once the client's close has arrived (WebSocket Extension v0.4).</summary>
    private int FixedCount => _clientCloseStatus is null ? FixedKeys.Length - 2 : FixedKeys.Length;

    public object this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The WebSocket environment has no '{key}'.");
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            Writable(key)[key] = value;
        }
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_materialized && TryGetFixed(key, out value))
        {
            return true;
        }

        if (_extras is { } extras && extras.TryGetValue(key, out value))
        {
            return true;
        }

        value = null;
        return false;
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public void Add(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ContainsKey(key))
        {
            throw new ArgumentException($"The WebSocket environment already has '{key}'.", nameof(key));
        }

        Writable(key)[key] = value;
    }

    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ContainsKey(key) && Writable(key).Remove(key);
    }

    public void Add(KeyValuePair<string, object> item) => Add(item.Key, item.Value);

    public void Clear()
    {
        Writable(WebSocketKeys.Version).Clear();
    }

    public bool Contains(KeyValuePair<string, object> item) => TryGetValue(item.Key, out var value) && Equals(value, item.Value);

    public bool Remove(KeyValuePair<string, object> item) => Contains(item) && Remove(item.Key);

    public void CopyTo(KeyValuePair<string, object>[] array, int arrayIndex)
    {
        ArgumentNullException.ThrowIfNull(array);
        foreach (var pair in this)
        {
            array[arrayIndex++] = pair;
        }
    }

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        if (!_materialized)
        {
            foreach (var key in FixedKeys)
            {
                if (TryGetFixed(key, out var value))
                {
                    yield return new KeyValuePair<string, object>(key, value);
                }
            }
        }

        if (_extras is { } extras)
        {
            foreach (var pair in extras)
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The client's close as the extension publishes it (in the dictionary too once keys were moved there).</summary>
    private void SetClientClose(int status, string description)
    {
        _clientCloseStatus = status;
        _clientCloseDescription = description;
        if (_materialized)
        {
            _extras![WebSocketKeys.ClientCloseStatus] = status;
            _extras[WebSocketKeys.ClientCloseDescription] = description;
        }
    }

    private bool TryGetFixed(string key, [MaybeNullWhen(false)] out object value)
    {
        value = key switch
        {
            // Made on first read (64 B each for as long as the socket is open): an application on the BCL WebSocket needs none.
            WebSocketKeys.SendAsync => _send ??= SendAsync,
            WebSocketKeys.ReceiveAsync => _receive ??= ReceiveAsync,
            WebSocketKeys.CloseAsync => _close ??= CloseAsync,
            WebSocketKeys.CallCancelled => CallCancelled,
            WebSocketKeys.Version => WebSocketKeys.ExtensionVersion,
            WebSocketKeys.WebSocketContext => _webSocketContext ??= new WebSocketContextAdapter(_connection, _target, _handshake, _socket),
            WebSocketKeys.WebSocket => _socket,
            WebSocketKeys.ClientCloseStatus => _clientCloseStatus,
            WebSocketKeys.ClientCloseDescription => _clientCloseDescription,
            _ => null,
        };
        return value is not null;
    }

    /// <summary>The dictionary a write goes to; writing one of the extension's keys first moves them all into it.</summary>
    private Dictionary<string, object> Writable(string key)
    {
        var extras = _extras ??= new Dictionary<string, object>(StringComparer.Ordinal);
        if (!_materialized && Array.IndexOf(FixedKeys, key) >= 0)
        {
            foreach (var fixedKey in FixedKeys)
            {
                if (TryGetFixed(fixedKey, out var value))
                {
                    extras[fixedKey] = value;
                }
            }

            _materialized = true;
        }

        return extras;
    }
}
