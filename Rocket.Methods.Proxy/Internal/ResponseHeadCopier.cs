using System.Net.Http.Headers;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Copies the upstream's status and header fields to the client response, minus the hop-by-hop ones.</summary>
internal sealed class ResponseHeadCopier(ProxyOptions options)
{
    private readonly string? _via = options.Via;

    /// <summary>Sets status and headers. For a 101 the Upgrade/Connection pair is kept: it is what the client switches on.</summary>
    public void Copy(HttpResponseMessage source, RequestContext context)
    {
        var response = context.Response;
        response.StatusCode = (int)source.StatusCode;
        var headers = response.Headers;
        var fields = source.Headers.NonValidated;
        HashSet<string>? named = null;
        if (fields.TryGetValues("Connection", out var connection))
        {
            named = HeaderRules.NamedInConnection(connection);
        }

        string? previousVia = null;
        foreach (var field in fields)
        {
            var name = field.Key;
            if (HeaderRules.IsHopByHop(name) || (named is not null && named.Contains(name)))
            {
                continue;
            }

            if (_via is not null && name.Equals("Via", StringComparison.OrdinalIgnoreCase))
            {
                previousVia = string.Join(", ", field.Value);
                continue;
            }

            AddAll(headers, name, field.Value);
        }

        foreach (var field in source.Content.Headers.NonValidated)
        {
            if (field.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                // Declared, so the core frames the body by length (also for HEAD) and aborts if the upstream falls short.
                foreach (var value in field.Value)
                {
                    headers.Set("Content-Length", value);
                }

                continue;
            }

            AddAll(headers, field.Key, field.Value);
        }

        if (source.StatusCode == System.Net.HttpStatusCode.SwitchingProtocols && fields.TryGetValues("Upgrade", out var upgrade))
        {
            headers.Set("Connection", "Upgrade");
            AddAll(headers, "Upgrade", upgrade);
        }

        if (_via is not null)
        {
            var hop = source.Version.Minor == 0 && source.Version.Major == 1 ? "1.0 " + _via : "1.1 " + _via;
            headers.Set("Via", previousVia is null ? hop : previousVia + ", " + hop);
        }
    }

    private static void AddAll(ResponseHeaders headers, string name, HeaderStringValues values)
    {
        foreach (var value in values)
        {
            headers.Add(name, value);
        }
    }
}
