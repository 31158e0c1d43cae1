using RocketOwin.Methods.Proxy.Internal;

namespace RocketOwin.Methods.Proxy;

/// <summary>How requests are spread over several upstreams (appInfo <c>balance</c>).</summary>
public enum BalanceMode
{
    /// <summary><c>round_robin</c>: each upstream in turn (nginx's default).</summary>
    RoundRobin,

    /// <summary><c>least_requests</c>: the upstream with the fewest requests in flight (nginx's least_conn, YARP's LeastRequests).</summary>
    LeastRequests,
}

/// <summary>The proxy method's settings, read from appInfo once at start and validated (README.md lists every key).</summary>
public sealed class ProxyOptions
{
    private ProxyOptions()
    {
    }

    /// <summary><c>upstream</c>: the upstream base URLs (http only), each possibly with a path prefix. Required.</summary>
    public IReadOnlyList<Uri> Upstreams { get; private init; } = [];

    /// <summary><c>balance</c>: <see cref="BalanceMode.RoundRobin"/> (default) or <see cref="BalanceMode.LeastRequests"/>.</summary>
    public BalanceMode Balance { get; private init; }

    /// <summary><c>fail_timeout</c>: how long an upstream that refused or timed out is left out (default 10 s, nginx's fail_timeout).</summary>
    public TimeSpan FailTimeout { get; private init; }

    /// <summary><c>upstream_timeout</c>: longest wait for the upstream's response head once the request is sent, for one write of the request body to it, and between two reads of its body (default 60 s, nginx's proxy_read_timeout and proxy_send_timeout). The client's own upload is not counted: that is the core's body timeout. Over it: 504 (before the head) or an aborted response.</summary>
    public TimeSpan UpstreamTimeout { get; private init; }

    /// <summary><c>connect_timeout</c>: longest wait for a TCP connection to an upstream (default 10 s). Over it: 504 and the upstream is left out.</summary>
    public TimeSpan ConnectTimeout { get; private init; }

    /// <summary><c>keepalive_timeout</c>: how long an idle pooled upstream connection is kept (default 60 s, nginx's upstream keepalive_timeout).</summary>
    public TimeSpan KeepAliveTimeout { get; private init; }

    /// <summary><c>max_connections</c>: most connections to one upstream at once; 0 = no limit (the default). Requests over it wait for a free connection.</summary>
    public int MaxConnections { get; private init; }

    /// <summary><c>preserve_host</c>: forward the client's Host (true) or the upstream's authority (false, the default, as nginx's proxy_pass).</summary>
    public bool PreserveHost { get; private init; }

    /// <summary><c>x_forwarded</c>: add X-Forwarded-For (appended), X-Forwarded-Proto and X-Forwarded-Host (default true).</summary>
    public bool XForwarded { get; private init; }

    /// <summary><c>forwarded</c>: append an RFC 7239 Forwarded element (for, proto, host); default false.</summary>
    public bool Forwarded { get; private init; }

    /// <summary><c>via</c>: the Via pseudonym added to requests and responses (RFC 9110 §7.6.3), e.g. <c>rocket</c>; null (the default) adds none.</summary>
    public string? Via { get; private init; }

    /// <summary><c>path_base</c>: a path prefix on this side stripped before forwarding (like an nginx location with proxy_pass URI); requests outside it get 404. Empty by default.</summary>
    public string PathBase { get; private init; } = string.Empty;

    /// <summary><c>buffer_size</c>: bytes of the pooled buffer each body copy uses (default 65,536; 4 KiB to 1 MiB).</summary>
    public int BufferSize { get; private init; }

    /// <summary><c>splice</c>: on Linux, move large length-delimited response bodies between the sockets with splice(2) instead of copying them through <see cref="BufferSize"/> (default false: on loopback the copy path measured faster end to end; TLS clients always copy).</summary>
    public bool Splice { get; private init; }

    /// <summary><c>underscores_in_headers</c>: forward request fields whose names contain '_' (default false: dropped, as nginx's underscores_in_headers off; CGI, WSGI and PHP apps read <c>X_Forwarded_For</c> as <c>X-Forwarded-For</c>).</summary>
    public bool UnderscoresInHeaders { get; private init; }

    /// <summary>Reads and validates every key.</summary>
    /// <exception cref="ArgumentException">A key is missing or invalid; the message names the key and the value.</exception>
    public static ProxyOptions From(AppInfo appInfo)
    {
        ArgumentNullException.ThrowIfNull(appInfo);
        return new ProxyOptions
        {
            Upstreams = ReadUpstreams(appInfo),
            Balance = ReadBalance(appInfo),
            FailTimeout = appInfo.GetDuration("fail_timeout", TimeSpan.FromSeconds(10)),
            UpstreamTimeout = Positive(appInfo, "upstream_timeout", TimeSpan.FromSeconds(60)),
            ConnectTimeout = Positive(appInfo, "connect_timeout", TimeSpan.FromSeconds(10)),
            KeepAliveTimeout = appInfo.GetDuration("keepalive_timeout", TimeSpan.FromSeconds(60)),
            MaxConnections = (int)appInfo.GetInt64("max_connections", 0, 0, int.MaxValue),
            PreserveHost = appInfo.GetBoolean("preserve_host", false),
            XForwarded = appInfo.GetBoolean("x_forwarded", true),
            Forwarded = appInfo.GetBoolean("forwarded", false),
            Via = ReadVia(appInfo),
            PathBase = ReadPathBase(appInfo),
            BufferSize = (int)appInfo.GetInt64("buffer_size", 64 * 1024, 4 * 1024, 1024 * 1024),
            UnderscoresInHeaders = appInfo.GetBoolean("underscores_in_headers", false),
            Splice = appInfo.GetBoolean("splice", false),
        };
    }

    private static List<Uri> ReadUpstreams(AppInfo appInfo)
    {
        var raw = appInfo.TryGetValue("upstream", out var value) ? value : null;
        var list = raw switch
        {
            null => [],
            Uri uri => [uri.OriginalString],
            _ => appInfo.GetList("upstream", []),
        };
        if (list.Count == 0)
        {
            throw AppInfo.Invalid("upstream", raw, "one upstream URL such as http://127.0.0.1:5000, or several (a list or a comma-separated string)");
        }

        var result = new List<Uri>(list.Count);
        foreach (var text in list)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw AppInfo.Invalid("upstream", text, "an http:// URL with a host, an optional port and an optional path prefix (no query, fragment or user info)");
            }

            result.Add(uri);
        }

        return result;
    }

    private static BalanceMode ReadBalance(AppInfo appInfo)
    {
        var text = appInfo.GetString("balance");
        return text?.Trim().ToUpperInvariant().Replace('-', '_') switch
        {
            null or "" or "ROUND_ROBIN" or "ROUNDROBIN" => BalanceMode.RoundRobin,
            "LEAST_REQUESTS" or "LEASTREQUESTS" or "LEAST_CONN" or "LEAST_OUTSTANDING" => BalanceMode.LeastRequests,
            _ => throw AppInfo.Invalid("balance", text, "round_robin or least_requests"),
        };
    }

    private static TimeSpan Positive(AppInfo appInfo, string key, TimeSpan defaultValue)
    {
        var value = appInfo.GetDuration(key, defaultValue);
        return value > TimeSpan.Zero ? value : throw AppInfo.Invalid(key, appInfo[key], "a duration above 0 seconds");
    }

    private static string? ReadVia(AppInfo appInfo)
    {
        var text = appInfo.GetString("via")?.Trim();
        if (string.IsNullOrEmpty(text) || text.Equals("false", StringComparison.OrdinalIgnoreCase) || text.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("on", StringComparison.OrdinalIgnoreCase))
        {
            return "rocket";
        }

        // RFC 9110 §7.6.3: received-by is a token (a pseudonym) or host[:port].
        return HeaderRules.IsToken(text.Replace(':', '-')) ? text : throw AppInfo.Invalid("via", text, "true/false or a pseudonym (an HTTP token such as rocket)");
    }

    private static string ReadPathBase(AppInfo appInfo)
    {
        var text = appInfo.GetString("path_base")?.Trim() ?? string.Empty;
        if (text.Length == 0 || text == "/")
        {
            return string.Empty;
        }

        if (!text.StartsWith('/') || text.Contains('?', StringComparison.Ordinal) || text.Contains('#', StringComparison.Ordinal))
        {
            throw AppInfo.Invalid("path_base", text, "a path starting with '/' (no query or fragment), e.g. /api");
        }

        return text.TrimEnd('/');
    }
}
