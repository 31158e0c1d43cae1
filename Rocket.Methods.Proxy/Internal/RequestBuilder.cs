using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Turns the client's request into the upstream request: target, headers (hop-by-hop removed, forwarding fields added) and body.</summary>
/// <remarks>Stateless apart from the options; called concurrently.</remarks>
internal sealed class RequestBuilder(ProxyOptions options)
{
    private static readonly UriCreationOptions RawUri = new() { DangerousDisablePathAndQueryCanonicalization = true };
    private readonly string? _via = options.Via;
    private readonly FrozenSet<string> _notForwarded = NotForwarded(options);

    /// <summary>Builds the request for <paramref name="upstream"/>; <paramref name="path"/> is the raw path after path_base.</summary>
    public HttpRequestMessage Build(RequestContext context, Upstream upstream, string path, RequestBodyContent? content)
    {
        var head = context.Request;
        var target = head.Target == "*" ? upstream.AsteriskFormTarget : TargetUri(upstream, path, head.QueryString);
        var request = new HttpRequestMessage(UpstreamMethod(head.Method)!, target)
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };

        CopyHeaders(context, request, content);
        return request;
    }

    /// <summary>
    /// The method as the upstream client will send it, exactly as received (RFC 9110 §9.1: methods are case-sensitive);
    /// null when it cannot: SocketsHttpHandler writes any case of a standard method (<c>head</c>, <c>Get</c>) in upper
    /// case, which would turn an unknown method into a known one (and a <c>head</c> into a HEAD whose body is never read).
    /// </summary>
    public static HttpMethod? UpstreamMethod(string method)
    {
        var parsed = HttpMethod.Parse(method);
        return string.Equals(parsed.Method, method, StringComparison.Ordinal) ? parsed : null;
    }

    /// <summary>The upstream URL for a path and query; the last one built for the upstream is reused when they repeat.</summary>
    private static Uri TargetUri(Upstream upstream, string path, string query)
    {
        var last = upstream.LastTarget;
        if (last is not null && string.Equals(last.Path, path, StringComparison.Ordinal) && string.Equals(last.Query, query, StringComparison.Ordinal))
        {
            return last.Uri;
        }

        var target = query.Length == 0
            ? string.Concat(upstream.Origin, upstream.PathPrefix, path)
            : string.Concat(upstream.Origin, upstream.PathPrefix, path, "?", query);

        // The path goes out exactly as the client encoded it (no dot-segment or escape rewriting by Uri).
        var uri = new Uri(target, RawUri);
        upstream.LastTarget = new Upstream.Target(path, query, uri);
        return uri;
    }

    private void CopyHeaders(RequestContext context, HttpRequestMessage request, RequestBodyContent? content)
    {
        var head = context.Request;
        var fields = head.Headers;
        var headers = request.Headers;
        HashSet<string>? named = null;
        if (fields.Contains("Connection"))
        {
            named = HeaderRules.NamedInConnection(fields.GetValues("Connection"));
        }

        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields.NameAt(i);
            if (_notForwarded.Contains(name) || (named is not null && named.Contains(name)))
            {
                continue;
            }

            if (!options.UnderscoresInHeaders && name.Contains('_', StringComparison.Ordinal))
            {
                // nginx's underscores_in_headers off: CGI-style apps cannot tell X_Forwarded_For from X-Forwarded-For.
                continue;
            }

            var value = fields.ValueAt(i);
            if (!headers.TryAddWithoutValidation(name, value))
            {
                // Content-Type and the other content fields belong to the content; without a body there is nowhere to put them.
                content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (head.IsUpgradeRequest && fields.TryGetValue("Upgrade", out var upgrade))
        {
            // The one hop-by-hop pair that must cross: the upstream decides whether to switch (RFC 9110 §7.8).
            headers.TryAddWithoutValidation("Connection", "Upgrade");
            headers.TryAddWithoutValidation("Upgrade", upgrade);
        }

        if (content is not null && head.ExpectsContinue)
        {
            // End to end: the upstream's 100 makes the handler read the body, and that first read sends the client's 100.
            headers.ExpectContinue = true;
        }

        if (options.PreserveHost && head.Host.Length > 0)
        {
            headers.TryAddWithoutValidation("Host", head.Host);
            if (headers.Host is null)
            {
                // SocketsHttpHandler would send its own Host as well as this one it cannot parse: two Host lines upstream.
                headers.Remove("Host");
                throw new BadRequestException(RequestRejectionReason.InvalidHost, $"preserve_host cannot forward Host {head.Host}");
            }
        }

        AddForwardingFields(context, headers);
    }

    private void AddForwardingFields(RequestContext context, System.Net.Http.Headers.HttpRequestHeaders headers)
    {
        var head = context.Request;
        var connection = context.Connection;
        var proto = connection.IsSecure ? "https" : "http";
        if (options.XForwarded)
        {
            var client = connection.RemoteEndPoint.Address.ToString();
            var previous = head.Headers.GetCombined("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", previous is null ? client : string.Concat(previous, ", ", client));
            headers.TryAddWithoutValidation("X-Forwarded-Proto", proto);
            if (head.Host.Length > 0)
            {
                headers.TryAddWithoutValidation("X-Forwarded-Host", head.Host);
            }
        }

        if (options.Forwarded)
        {
            var element = ForwardedElement(connection.RemoteEndPoint.Address, proto, head.Host);
            var previous = head.Headers.GetCombined("Forwarded");
            headers.TryAddWithoutValidation("Forwarded", previous is null ? element : string.Concat(previous, ", ", element));
        }

        if (_via is not null)
        {
            var hop = head.Version == RocketOwin.HttpVersion.Http11 ? "1.1 " + _via : "1.0 " + _via;
            var previous = head.Headers.GetCombined("Via");
            headers.TryAddWithoutValidation("Via", previous is null ? hop : string.Concat(previous, ", ", hop));
        }
    }

    /// <summary>RFC 7239 §4: for, proto and host; IPv6 addresses and values that are not tokens are quoted.</summary>
    internal static string ForwardedElement(IPAddress client, string proto, string host)
    {
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        var forValue = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"\"[{address}]\"" : address.ToString();
        var element = $"for={forValue};proto={proto}";
        if (host.Length > 0)
        {
            element += HeaderRules.IsToken(host) ? $";host={host}" : $";host=\"{host.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
        }

        return element;
    }

    /// <summary>Hop-by-hop fields and those the proxy writes itself (or that SocketsHttpHandler frames): the client's copies are not forwarded.</summary>
    private static FrozenSet<string> NotForwarded(ProxyOptions options)
    {
        var names = new List<string>(HeaderRules.HopByHopNames) { "Host", "Content-Length", "Expect" };
        if (options.XForwarded)
        {
            names.AddRange(["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"]);
        }

        if (options.Forwarded)
        {
            names.Add("Forwarded");
        }

        if (options.Via is not null)
        {
            names.Add("Via");
        }

        return names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }
}
