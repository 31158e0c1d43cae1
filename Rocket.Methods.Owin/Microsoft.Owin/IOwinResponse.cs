namespace Microsoft.Owin;

/// <summary>Typed access to the response half of an OWIN environment (Katana's IOwinResponse).</summary>
public interface IOwinResponse
{
    /// <summary>The OWIN environment.</summary>
    IDictionary<string, object> Environment { get; }

    /// <summary>The context this response belongs to.</summary>
    IOwinContext Context { get; }

    /// <summary>owin.ResponseStatusCode (200 unless set).</summary>
    int StatusCode { get; set; }

    /// <summary>owin.ResponseReasonPhrase; null means the standard phrase.</summary>
    string? ReasonPhrase { get; set; }

    /// <summary>owin.ResponseProtocol.</summary>
    string? Protocol { get; set; }

    /// <summary>The response headers (changing them after the first write throws <see cref="InvalidOperationException"/>).</summary>
    IHeaderDictionary Headers { get; }

    /// <summary>Adds Set-Cookie headers.</summary>
    ResponseCookieCollection Cookies { get; }

    /// <summary>The Content-Length header.</summary>
    long? ContentLength { get; set; }

    /// <summary>The Content-Type header.</summary>
    string? ContentType { get; set; }

    /// <summary>The Expires header.</summary>
    DateTimeOffset? Expires { get; set; }

    /// <summary>The ETag header.</summary>
    string? ETag { get; set; }

    /// <summary>owin.ResponseBody.</summary>
    Stream Body { get; set; }

    /// <summary>Registers a callback run just before the headers are sent (last registered runs first).</summary>
    void OnSendingHeaders(Action<object> callback, object state);

    /// <summary>Answers 302 with a Location header.</summary>
    void Redirect(string location);

    /// <summary>Writes text as UTF-8.</summary>
    void Write(string text);

    /// <summary>Writes bytes.</summary>
    void Write(byte[] data);

    /// <summary>Writes part of a byte array.</summary>
    void Write(byte[] data, int offset, int count);

    /// <summary>Writes text as UTF-8.</summary>
    Task WriteAsync(string text);

    /// <summary>Writes text as UTF-8.</summary>
    Task WriteAsync(string text, CancellationToken token);

    /// <summary>Writes bytes.</summary>
    Task WriteAsync(byte[] data);

    /// <summary>Writes bytes.</summary>
    Task WriteAsync(byte[] data, CancellationToken token);

    /// <summary>Writes part of a byte array.</summary>
    Task WriteAsync(byte[] data, int offset, int count, CancellationToken token);

    /// <summary>The environment value under <paramref name="key"/>, or default.</summary>
    T? Get<T>(string key);

    /// <summary>Sets an environment value; returns this response.</summary>
    IOwinResponse Set<T>(string key, T value);
}
