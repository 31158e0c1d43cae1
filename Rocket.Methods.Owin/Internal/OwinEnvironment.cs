using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using Microsoft.Owin;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>
/// The OWIN environment of one request, over Rocket's <see cref="RequestContext"/>. The well-known keys live in
/// slots and are computed on first read (most requests read few of them); other keys go to a dictionary that is
/// created once and reused. Response status, reason phrase, headers and body read and write Rocket's
/// <see cref="Response"/> directly, so they lock when the headers are sent.
/// </summary>
/// <remarks>
/// One instance per connection, reset for each request (as <see cref="RequestContext"/> is): an application must
/// not keep the dictionary after its task completes. Not thread-safe, as OWIN allows.
/// </remarks>
internal sealed partial class OwinEnvironment : IDictionary<string, object>
{
    private readonly OwinHostContext _host;
    private readonly object?[] _slots = new object?[SlotCount];
    private readonly RequestHeadersDictionary _requestHeaders = new();
    private readonly ResponseHeadersDictionary _responseHeaders;
    private readonly Func<string, long, long?, CancellationToken, Task> _sendFile;
    private readonly Action<Action<object>, object> _onSendingHeaders;
    private readonly object _appDisposing;
    private Dictionary<string, object>? _extras;
    private RequestContext? _context;
    private Connection? _connection;
    private string? _remoteIp;
    private string? _remotePort;
    private string? _localIp;
    private string? _localPort;
    private string _pathBase = string.Empty;
    private string _path = string.Empty;
    private uint _present;
    private uint _cached;
    private long _requestNumber;
    private OwinContext? _owinContext;
    private OpaqueUpgradeOffer? _upgradeOffer;
    private int _sendingHeaders;
    private Func<CancellationToken>? _upgradeCancelled;

    public OwinEnvironment(OwinHostContext host)
    {
        _host = host;
        _responseHeaders = new ResponseHeadersDictionary(this);
        _sendFile = SendFileAsync;
        _onSendingHeaders = OnSendingHeaders;
        _appDisposing = host.AppDisposing;
    }

    /// <summary>opaque.Upgrade and websocket.Accept for this request when it asks to upgrade (HTTP/1.1, Connection: upgrade), else null.</summary>
    public OpaqueUpgradeOffer? Upgrade { get; private set; }

    /// <summary>A Katana context over this environment, created once (it keeps no state of its own).</summary>
    public OwinContext OwinContext => _owinContext ??= new OwinContext(this);

    public int Count
    {
        get
        {
            var n = System.Numerics.BitOperations.PopCount(_present) + (_context?.Response.ReasonPhrase is null ? 0 : 1);
            return n + (_extras?.Count ?? 0);
        }
    }

    public bool IsReadOnly => false;

    public ICollection<string> Keys => this.Select(p => p.Key).ToList();

    public ICollection<object> Values => this.Select(p => p.Value).ToList();

    private RequestContext Context => _context ?? throw new InvalidOperationException("The OWIN environment is used outside its request.");

    public object this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The OWIN environment has no '{key}'.");
        set
        {
            ArgumentNullException.ThrowIfNull(key);
            var slot = SlotOf(key);
            if (slot >= 0)
            {
                SetSlot(slot, value);
            }
            else
            {
                (_extras ??= new Dictionary<string, object>(StringComparer.Ordinal))[key] = value;
            }
        }
    }

    /// <summary>
    /// True once the application has written body bytes (or the headers went out), except while
    /// server.OnSendingHeaders callbacks run: OWIN fixes status and headers at the first write, even though
    /// Rocket may still hold a small body back to give it a Content-Length.
    /// </summary>
    public bool HeadersLocked
    {
        get
        {
            if (_context is not { } context)
            {
                return true; // after the 101 (Detach)
            }

            var response = context.Response;
            return _sendingHeaders == 0 && (response.HasStarted || response.BodyBytesWritten > 0);
        }
    }

    /// <summary>Throws when <see cref="HeadersLocked"/>.</summary>
    public void ThrowIfHeadersLocked()
    {
        if (HeadersLocked)
        {
            throw new InvalidOperationException("The response headers were sent (the body has been written to): status and headers can no longer change.");
        }
    }

    /// <summary>The Katana context for <paramref name="environment"/>: the cached one for Rocket's environment, else a new wrapper.</summary>
    public static OwinContext ContextFor(IDictionary<string, object> environment)
        => environment is OwinEnvironment rocket ? rocket.OwinContext : new OwinContext(environment);

    /// <summary>Points the environment at the next request on <paramref name="context"/>'s connection.</summary>
    /// <param name="context">The request.</param>
    /// <param name="pathBase">owin.RequestPathBase: the server's path base as the request spelled it.</param>
    /// <param name="path">owin.RequestPath: the decoded path after the server's own path base.</param>
    public void Reset(RequestContext context, string pathBase, string path)
    {
        _context = context;
        _pathBase = pathBase;
        _path = path;
        var connection = context.Connection;
        if (!ReferenceEquals(connection, _connection))
        {
            _connection = connection;
            _remoteIp = _remotePort = _localIp = _localPort = null;
        }

        _present = AlwaysPresent;
        if (connection.IsSecure && connection.ClientCertificate is not null)
        {
            _present |= Bit(ClientCertificateSlot);
        }

        _cached = 0;
        _upgradeCancelled = null;
        if (_extras is { Count: > 0 })
        {
            _extras.Clear();
        }

        _requestHeaders.Reset(context.Request.Headers);
        _responseHeaders.Reset(context.Response.Headers);
        Upgrade = context.Request.IsUpgradeRequest ? (_upgradeOffer ??= new OpaqueUpgradeOffer(this, _host)).Offer(context) : null;
    }

    /// <summary>
    /// At the 101, before the server takes the request's objects back (see RequestContext.UpgradeAsync): the request's
    /// values an application may still read inside its WebSocketFunc or opaque callback (method, path, query, protocol,
    /// headers, request id, addresses) are kept here; the bodies become empty streams, the response headers a copy of
    /// the 101's, and what only the request could do (status, headers, send file, OnSendingHeaders) throws as after the
    /// headers went out. The environment is then garbage unless the application kept it.
    /// </summary>
    /// <param name="callCancelled">owin.CallCancelled from now on when the application had not read it yet: the upgraded call's token.</param>
    public void Detach(Func<CancellationToken>? callCancelled)
    {
        if (_context is null)
        {
            return;
        }

        foreach (var slot in (ReadOnlySpan<int>)[RequestMethodSlot, RequestProtocolSlot, RequestQueryStringSlot, RequestIdSlot, ResponseProtocolSlot, RemoteIpAddressSlot, LocalIpAddressSlot])
        {
            if (HasSlot(slot))
            {
                GetSlot(slot);
            }
        }

        if (HasSlot(RequestBodySlot))
        {
            SetSlot(RequestBodySlot, Stream.Null);
        }

        if (HasSlot(ResponseBodySlot))
        {
            SetSlot(ResponseBodySlot, Stream.Null);
        }

        if (HasSlot(ResponseHeadersSlot))
        {
            SetSlot(ResponseHeadersSlot, new Dictionary<string, string[]>(_responseHeaders, StringComparer.OrdinalIgnoreCase));
        }

        _requestHeaders.Detach();
        _upgradeCancelled = callCancelled;
        _upgradeOffer?.Detach();
        _context = null;
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slot = SlotOf(key);
        if (slot >= 0)
        {
            if (HasSlot(slot))
            {
                value = GetSlot(slot)!;
                return true;
            }

            value = null;
            return false;
        }

        if (_extras is not null)
        {
            return _extras.TryGetValue(key, out value);
        }

        value = null;
        return false;
    }

    public bool ContainsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slot = SlotOf(key);
        return slot >= 0 ? HasSlot(slot) : _extras?.ContainsKey(key) == true;
    }

    public void Add(string key, object value)
    {
        if (ContainsKey(key))
        {
            throw new ArgumentException($"The OWIN environment already has '{key}'.", nameof(key));
        }

        this[key] = value;
    }

    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slot = SlotOf(key);
        return slot >= 0 ? RemoveSlot(slot) : _extras?.Remove(key) == true;
    }

    public void Add(KeyValuePair<string, object> item) => Add(item.Key, item.Value);

    public void Clear()
    {
        for (var slot = 0; slot < SlotCount; slot++)
        {
            RemoveSlot(slot);
        }

        _extras?.Clear();
    }

    public bool Contains(KeyValuePair<string, object> item) => TryGetValue(item.Key, out var value) && Equals(value, item.Value);

    public void CopyTo(KeyValuePair<string, object>[] array, int arrayIndex)
    {
        ArgumentNullException.ThrowIfNull(array);
        foreach (var pair in this)
        {
            array[arrayIndex++] = pair;
        }
    }

    public bool Remove(KeyValuePair<string, object> item) => Contains(item) && Remove(item.Key);

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        for (var slot = 0; slot < SlotCount; slot++)
        {
            if (HasSlot(slot))
            {
                yield return new KeyValuePair<string, object>(SlotNames[slot], GetSlot(slot)!);
            }
        }

        if (_extras is not null)
        {
            foreach (var pair in _extras.ToList())
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void ValidateStatus(object? value, out int code)
    {
        code = value is int i ? i : throw new ArgumentException($"owin.ResponseStatusCode must be an int; got {value?.GetType().Name ?? "null"}.", nameof(value));

        // OWIN 1.0 §3.2.2 and RFC 9110 §15: three digits; 100 Continue is the server's to send, not the app's.
        if (code is < 100 or >= 1000 or 100)
        {
            throw new ArgumentOutOfRangeException(nameof(value), code, $"owin.ResponseStatusCode {code} is not allowed: use 101 to 999.");
        }
    }

    private bool HasSlot(int slot) => slot switch
    {
        ResponseStatusCodeSlot => true,
        ResponseReasonPhraseSlot => _context?.Response.ReasonPhrase is not null,
        _ => (_present & Bit(slot)) != 0,
    };

    private object? GetSlot(int slot)
    {
        switch (slot)
        {
            case ResponseStatusCodeSlot:
                return BoxedValues.Status(_context?.Response.StatusCode ?? 101);
            case ResponseReasonPhraseSlot:
                return _context?.Response.ReasonPhrase;
        }

        var bit = Bit(slot);
        if ((_cached & bit) == 0)
        {
            _slots[slot] = Materialize(slot);
            _cached |= bit;
        }

        return _slots[slot];
    }

    private void SetSlot(int slot, object? value)
    {
        switch (slot)
        {
            case ResponseStatusCodeSlot:
                ValidateStatus(value, out var code);
                ThrowIfHeadersLocked();
                Context.Response.StatusCode = code;
                return;
            case ResponseReasonPhraseSlot:
                ThrowIfHeadersLocked();
                Context.Response.ReasonPhrase = value as string ?? (value is null ? null : throw new ArgumentException("owin.ResponseReasonPhrase must be a string.", nameof(value)));
                return;
        }

        var bit = Bit(slot);
        _slots[slot] = value;
        _present |= bit;
        _cached |= bit;
    }

    private bool RemoveSlot(int slot)
    {
        switch (slot)
        {
            case ResponseStatusCodeSlot:
                // Absent means 200 (OWIN 1.0 §3.2.2).
                if (_context is { Response.HasStarted: false })
                {
                    Context.Response.StatusCode = 200;
                }

                return true;
            case ResponseReasonPhraseSlot:
                if (_context is not { } context)
                {
                    return false;
                }

                var had = context.Response.ReasonPhrase is not null;
                context.Response.ReasonPhrase = null;
                return had;
        }

        var bit = Bit(slot);
        var present = (_present & bit) != 0;
        _present &= ~bit;
        _cached &= ~bit;
        _slots[slot] = null;
        return present;
    }

    private object? Materialize(int slot)
    {
        // After the 101 (Detach) only the connection's facts and the host's values are left to compute; the rest is cached.
        var connection = _connection!;
        switch (slot)
        {
            case RequestHeadersSlot:
                return _requestHeaders;
            case RequestPathSlot:
                return _path;
            case RequestPathBaseSlot:
                return _pathBase;
            case RequestSchemeSlot:
                return connection.IsSecure ? "https" : "http";
            case CallCancelledSlot when _context is null:
                return _upgradeCancelled?.Invoke() ?? CancellationToken.None;
            case VersionSlot:
                return OwinKeys.OwinVersion;
            case RemoteIpAddressSlot:
                return _remoteIp ??= connection.RemoteEndPoint.Address.ToString();
            case RemotePortSlot:
                return _remotePort ??= connection.RemoteEndPoint.Port.ToString(CultureInfo.InvariantCulture);
            case LocalIpAddressSlot:
                return _localIp ??= connection.LocalEndPoint.Address.ToString();
            case LocalPortSlot:
                return _localPort ??= connection.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);
            case IsLocalSlot:
                return BoxedValues.Bool(IPAddress.IsLoopback(connection.RemoteEndPoint.Address) || connection.RemoteEndPoint.Address.Equals(connection.LocalEndPoint.Address));
            case OnSendingHeadersSlot:
                return _onSendingHeaders;
            case CapabilitiesSlot:
                return _host.Capabilities;
            case TraceOutputSlot:
                return _host.TraceOutput;
            case OnAppDisposingSlot:
                return _appDisposing;
            case ClientCertificateSlot:
                return connection.ClientCertificate;
            case SendFileAsyncSlot:
                return _sendFile;
        }

        var context = Context;
        var request = context.Request;
        return slot switch
        {
            RequestBodySlot => context.RequestBody,
            RequestMethodSlot => request.Method,
            RequestProtocolSlot => request.Protocol,
            RequestQueryStringSlot => request.QueryString,
            RequestIdSlot => connection.Id.ToString(CultureInfo.InvariantCulture) + "-" + (++_requestNumber).ToString(CultureInfo.InvariantCulture),
            ResponseBodySlot => context.Response.Body,
            ResponseHeadersSlot => _responseHeaders,
            ResponseProtocolSlot => request.Protocol,
            CallCancelledSlot => context.RequestAborted,
            _ => throw new ArgumentOutOfRangeException(nameof(slot)),
        };
    }

    private void OnSendingHeaders(Action<object> callback, object state)
    {
        ArgumentNullException.ThrowIfNull(callback);

        // Rocket runs OnStarting callbacks last-registered-first, as server.OnSendingHeaders asks; while one
        // runs, headers may change even though body bytes are already buffered.
        Context.Response.OnStarting(
            s =>
            {
                _sendingHeaders++;
                try
                {
                    callback(s!);
                }
                finally
                {
                    _sendingHeaders--;
                }
            },
            state);
    }

    private Task SendFileAsync(string path, long offset, long? length, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(path);
        var count = length ?? new FileInfo(path).Length - offset;
        var pending = Context.Response.SendFileAsync(path, offset, count, cancel);
        return pending.IsCompletedSuccessfully ? Task.CompletedTask : pending.AsTask();
    }
}
