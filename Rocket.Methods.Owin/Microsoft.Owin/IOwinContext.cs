namespace Microsoft.Owin;

/// <summary>Typed access to one request's OWIN environment (Katana's IOwinContext, without authentication).</summary>
public interface IOwinContext
{
    /// <summary>The request.</summary>
    IOwinRequest Request { get; }

    /// <summary>The response.</summary>
    IOwinResponse Response { get; }

    /// <summary>The OWIN environment itself.</summary>
    IDictionary<string, object> Environment { get; }

    /// <summary>The host's trace writer (<c>host.TraceOutput</c>).</summary>
    TextWriter? TraceOutput { get; set; }

    /// <summary>The environment value under <paramref name="key"/>, or default.</summary>
    T? Get<T>(string key);

    /// <summary>Sets an environment value; returns this context.</summary>
    IOwinContext Set<T>(string key, T value);
}
