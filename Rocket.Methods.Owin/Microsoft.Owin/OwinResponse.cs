using System.Buffers;
using System.Globalization;
using System.Text;
using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin;

/// <summary>Typed access to the response half of an OWIN environment; every property reads or writes the environment.</summary>
public class OwinResponse : IOwinResponse
{
    private IHeaderDictionary? _headers;

    /// <summary>Creates a response over a new, empty environment.</summary>
    public OwinResponse()
        : this(new OwinContext().Environment)
    {
    }

    /// <summary>Creates a response over <paramref name="environment"/>.</summary>
    public OwinResponse(IDictionary<string, object> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
    }

    /// <inheritdoc />
    public virtual IDictionary<string, object> Environment { get; }

    /// <inheritdoc />
    public virtual IOwinContext Context => new OwinContext(Environment);

    /// <inheritdoc />
    public virtual int StatusCode
    {
        get => Environment.TryGetValue(OwinKeys.ResponseStatusCode, out var value) && value is int status ? status : 200;
        set => Set(OwinKeys.ResponseStatusCode, value);
    }

    /// <inheritdoc />
    public virtual string? ReasonPhrase
    {
        get => Get<string>(OwinKeys.ResponseReasonPhrase);
        set => Set(OwinKeys.ResponseReasonPhrase, value);
    }

    /// <inheritdoc />
    public virtual string? Protocol
    {
        get => Get<string>(OwinKeys.ResponseProtocol);
        set => Set(OwinKeys.ResponseProtocol, value);
    }

    /// <inheritdoc />
    public virtual IHeaderDictionary Headers
        => _headers ??= new HeaderDictionary(Get<IDictionary<string, string[]>>(OwinKeys.ResponseHeaders)
            ?? throw new InvalidOperationException("The OWIN environment has no owin.ResponseHeaders."));

    /// <inheritdoc />
    public virtual ResponseCookieCollection Cookies => new(Headers);

    /// <inheritdoc />
    public virtual long? ContentLength
    {
        get => long.TryParse(Headers.Get("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        set => Headers.Set("Content-Length", value?.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public virtual string? ContentType
    {
        get => Headers.Get("Content-Type");
        set => Headers.Set("Content-Type", value);
    }

    /// <inheritdoc />
    public virtual DateTimeOffset? Expires
    {
        get => DateTimeOffset.TryParse(Headers.Get("Expires"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d) ? d : null;
        set => Headers.Set("Expires", value?.ToString("r", CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public virtual string? ETag
    {
        get => Headers.Get("ETag");
        set => Headers.Set("ETag", value);
    }

    /// <inheritdoc />
    public virtual Stream Body
    {
        get => Get<Stream>(OwinKeys.ResponseBody) ?? Stream.Null;
        set => Set(OwinKeys.ResponseBody, value);
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The server offers no server.OnSendingHeaders.</exception>
    public virtual void OnSendingHeaders(Action<object> callback, object state)
    {
        var register = Get<Action<Action<object>, object>>(OwinKeys.OnSendingHeaders)
            ?? throw new NotSupportedException("The server does not offer server.OnSendingHeaders.");
        register(callback, state);
    }

    /// <inheritdoc />
    public virtual void Redirect(string location)
    {
        StatusCode = 302;
        Headers.Set("Location", location);
    }

    /// <inheritdoc />
    public virtual void Write(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(text, rented);
            Body.Write(rented, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc />
    public virtual void Write(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Body.Write(data, 0, data.Length);
    }

    /// <inheritdoc />
    public virtual void Write(byte[] data, int offset, int count) => Body.Write(data, offset, count);

    /// <inheritdoc />
    public virtual Task WriteAsync(string text) => WriteAsync(text, CancellationToken.None);

    /// <inheritdoc />
    public virtual Task WriteAsync(string text, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Text is encoded into a pooled buffer; a write that completes at once (the usual case: Rocket
        // buffers small bodies) returns it immediately, so a hello-world costs no byte array.
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        ValueTask pending;
        try
        {
            var n = Encoding.UTF8.GetBytes(text, rented);
            pending = Body.WriteAsync(rented.AsMemory(0, n), token);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }

        if (pending.IsCompletedSuccessfully)
        {
            ArrayPool<byte>.Shared.Return(rented);
            return Task.CompletedTask;
        }

        return AwaitAndReturn(pending, rented);
    }

    /// <inheritdoc />
    public virtual Task WriteAsync(byte[] data) => WriteAsync(data, CancellationToken.None);

    /// <inheritdoc />
    public virtual Task WriteAsync(byte[] data, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(data);
        return WriteAsync(data, 0, data.Length, token);
    }

    /// <inheritdoc />
    public virtual Task WriteAsync(byte[] data, int offset, int count, CancellationToken token)
    {
        var pending = Body.WriteAsync(data.AsMemory(offset, count), token);
        return pending.IsCompletedSuccessfully ? Task.CompletedTask : pending.AsTask();
    }

    /// <inheritdoc />
    public virtual T? Get<T>(string key) => Environment.TryGetValue(key, out var value) && value is T typed ? typed : default;

    /// <inheritdoc />
    public virtual IOwinResponse Set<T>(string key, T value)
    {
        Environment[key] = value!;
        return this;
    }

    private static async Task AwaitAndReturn(ValueTask pending, byte[] rented)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
