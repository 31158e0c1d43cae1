using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin;

/// <summary>Typed access to an OWIN environment; every property reads and writes the environment itself.</summary>
/// <remarks>Cheap to create: it holds the environment and creates its request and response wrappers on first use.</remarks>
public class OwinContext : IOwinContext
{
    private OwinRequest? _request;
    private OwinResponse? _response;

    /// <summary>Creates a context over a new, empty environment (for tests and for code outside a server).</summary>
    public OwinContext()
        : this(new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [OwinKeys.RequestHeaders] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
            [OwinKeys.ResponseHeaders] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
            [OwinKeys.Version] = OwinKeys.OwinVersion,
        })
    {
    }

    /// <summary>Creates a context over <paramref name="environment"/>.</summary>
    public OwinContext(IDictionary<string, object> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
    }

    /// <inheritdoc />
    public virtual IOwinRequest Request => _request ??= new OwinRequest(Environment);

    /// <inheritdoc />
    public virtual IOwinResponse Response => _response ??= new OwinResponse(Environment);

    /// <inheritdoc />
    public virtual IDictionary<string, object> Environment { get; }

    /// <inheritdoc />
    public virtual TextWriter? TraceOutput
    {
        get => Get<TextWriter>(OwinKeys.TraceOutput);
        set => Set(OwinKeys.TraceOutput, value);
    }

    /// <inheritdoc />
    public virtual T? Get<T>(string key) => Environment.TryGetValue(key, out var value) && value is T typed ? typed : default;

    /// <inheritdoc />
    public virtual IOwinContext Set<T>(string key, T value)
    {
        Environment[key] = value!;
        return this;
    }
}
