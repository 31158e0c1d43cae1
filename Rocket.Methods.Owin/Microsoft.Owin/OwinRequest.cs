using System.Globalization;
using System.Security.Principal;
using System.Text;
using RocketOwin.Methods.Owin.Internal;

namespace Microsoft.Owin;

/// <summary>Typed access to the request half of an OWIN environment; every property reads or writes the environment.</summary>
public class OwinRequest : IOwinRequest
{
    private const string QueryTextKey = "Microsoft.Owin.Query#text";
    private const string QueryKey = "Microsoft.Owin.Query#dictionary";
    private const string CookiesKey = "Microsoft.Owin.Cookies#collection";
    private const string CookiesTextKey = "Microsoft.Owin.Cookies#text";
    private const string FormKey = "Microsoft.Owin.Form#collection";
    private IHeaderDictionary? _headers;

    /// <summary>Creates a request over a new, empty environment.</summary>
    public OwinRequest()
        : this(new OwinContext().Environment)
    {
    }

    /// <summary>Creates a request over <paramref name="environment"/>.</summary>
    public OwinRequest(IDictionary<string, object> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
    }

    /// <inheritdoc />
    public virtual IDictionary<string, object> Environment { get; }

    /// <inheritdoc />
    public virtual IOwinContext Context => new OwinContext(Environment);

    /// <inheritdoc />
    public virtual string Method
    {
        get => Get<string>(OwinKeys.RequestMethod) ?? string.Empty;
        set => Set(OwinKeys.RequestMethod, value);
    }

    /// <inheritdoc />
    public virtual string Scheme
    {
        get => Get<string>(OwinKeys.RequestScheme) ?? "http";
        set => Set(OwinKeys.RequestScheme, value);
    }

    /// <inheritdoc />
    public virtual bool IsSecure => string.Equals(Scheme, "https", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public virtual HostString Host
    {
        get => new(Headers.Get("Host") ?? (LocalIpAddress is { } ip ? ip + ":" + LocalPort?.ToString(CultureInfo.InvariantCulture) : null));
        set => Headers.Set("Host", value.Value);
    }

    /// <inheritdoc />
    public virtual PathString PathBase
    {
        get => new(Get<string>(OwinKeys.RequestPathBase));
        set => Set(OwinKeys.RequestPathBase, value.Value ?? string.Empty);
    }

    /// <inheritdoc />
    public virtual PathString Path
    {
        get => new(Get<string>(OwinKeys.RequestPath));
        set => Set(OwinKeys.RequestPath, value.Value ?? string.Empty);
    }

    /// <inheritdoc />
    public virtual QueryString QueryString
    {
        get => new(Get<string>(OwinKeys.RequestQueryString));
        set => Set(OwinKeys.RequestQueryString, value.Value ?? string.Empty);
    }

    /// <inheritdoc />
    public virtual IReadableStringCollection Query
    {
        get
        {
            var text = QueryString.Value ?? string.Empty;
            if (Get<IDictionary<string, string[]>>(QueryKey) is not { } query || !string.Equals(Get<string>(QueryTextKey), text, StringComparison.Ordinal))
            {
                query = FormParser.ParseQuery(text);
                Set(QueryKey, query);
                Set(QueryTextKey, text);
            }

            return new ReadableStringCollection(query);
        }
    }

    /// <inheritdoc />
    public virtual Uri Uri => new(Scheme + Uri.SchemeDelimiter + Host.ToUriComponent() + PathBase.ToUriComponent() + Path.ToUriComponent() + QueryString.ToUriComponent());

    /// <inheritdoc />
    public virtual string Protocol
    {
        get => Get<string>(OwinKeys.RequestProtocol) ?? string.Empty;
        set => Set(OwinKeys.RequestProtocol, value);
    }

    /// <inheritdoc />
    public virtual IHeaderDictionary Headers
        => _headers ??= new HeaderDictionary(Get<IDictionary<string, string[]>>(OwinKeys.RequestHeaders)
            ?? throw new InvalidOperationException("The OWIN environment has no owin.RequestHeaders."));

    /// <inheritdoc />
    public virtual RequestCookieCollection Cookies
    {
        get
        {
            // Parsed again only when the Cookie header changed (Katana keys its cache on the header text too).
            var text = Headers.Get("Cookie");
            if (Get<RequestCookieCollection>(CookiesKey) is not { } cookies || !string.Equals(Get<string>(CookiesTextKey), text, StringComparison.Ordinal))
            {
                cookies = RequestCookieCollection.Parse(text);
                Set(CookiesKey, cookies);
                Set(CookiesTextKey, text);
            }

            return cookies;
        }
    }

    /// <inheritdoc />
    public virtual string? ContentType
    {
        get => Headers.Get("Content-Type");
        set => Headers.Set("Content-Type", value);
    }

    /// <inheritdoc />
    public virtual string? CacheControl
    {
        get => Headers.Get("Cache-Control");
        set => Headers.Set("Cache-Control", value);
    }

    /// <inheritdoc />
    public virtual string? MediaType
    {
        get => Headers.Get("Media-Type");
        set => Headers.Set("Media-Type", value);
    }

    /// <inheritdoc />
    public virtual string? Accept
    {
        get => Headers.Get("Accept");
        set => Headers.Set("Accept", value);
    }

    /// <inheritdoc />
    public virtual Stream Body
    {
        get => Get<Stream>(OwinKeys.RequestBody) ?? Stream.Null;
        set => Set(OwinKeys.RequestBody, value);
    }

    /// <inheritdoc />
    public virtual CancellationToken CallCancelled
    {
        get => Get<CancellationToken>(OwinKeys.CallCancelled);
        set => Set(OwinKeys.CallCancelled, value);
    }

    /// <inheritdoc />
    public virtual string? LocalIpAddress
    {
        get => Get<string>(OwinKeys.LocalIpAddress);
        set => Set(OwinKeys.LocalIpAddress, value);
    }

    /// <inheritdoc />
    public virtual int? LocalPort
    {
        get => ParsePort(Get<string>(OwinKeys.LocalPort));
        set => Set(OwinKeys.LocalPort, value?.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public virtual string? RemoteIpAddress
    {
        get => Get<string>(OwinKeys.RemoteIpAddress);
        set => Set(OwinKeys.RemoteIpAddress, value);
    }

    /// <inheritdoc />
    public virtual int? RemotePort
    {
        get => ParsePort(Get<string>(OwinKeys.RemotePort));
        set => Set(OwinKeys.RemotePort, value?.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public virtual IPrincipal? User
    {
        get => Get<IPrincipal>(OwinKeys.User);
        set => Set(OwinKeys.User, value);
    }

    /// <inheritdoc />
    public virtual async Task<IFormCollection> ReadFormAsync()
    {
        if (Get<IFormCollection>(FormKey) is { } form)
        {
            return form;
        }

        string text;
        using (var reader = new StreamReader(Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 4096, leaveOpen: true))
        {
            text = await reader.ReadToEndAsync(CallCancelled).ConfigureAwait(false);
        }

        form = new FormCollection(FormParser.ParseForm(text));
        Set(FormKey, form);
        return form;
    }

    /// <inheritdoc />
    public virtual T? Get<T>(string key) => Environment.TryGetValue(key, out var value) && value is T typed ? typed : default;

    /// <inheritdoc />
    public virtual IOwinRequest Set<T>(string key, T value)
    {
        Environment[key] = value!;
        return this;
    }

    private static int? ParsePort(string? text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
}
