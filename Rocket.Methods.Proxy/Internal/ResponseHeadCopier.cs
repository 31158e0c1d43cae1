namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Copies the upstream's status and header fields to the client response, minus the hop-by-hop ones.</summary>
/// <remarks>Stateless apart from the options; the strings come from the connection's cache, so a repeated head allocates nothing.</remarks>
internal sealed class ResponseHeadCopier(ProxyOptions options)
{
    private readonly string? _via = options.Via;

    /// <summary>Sets status and headers from the connection's parsed head. For a 101 the Upgrade/Connection pair is kept: it is what the client switches on.</summary>
    public void Copy(UpstreamConnection connection, Response response)
    {
        var head = connection.Head;
        var buffer = connection.ReadBuffer;
        var strings = connection.Strings;
        response.StatusCode = head.Status;
        var headers = response.Headers;
        var fresh = headers.Count == 0;
        if (fresh && strings.TryReplay(connection.HeadVersion, headers))
        {
            return;
        }

        var named = head.ConnectionNamesFields ? NamedInConnection(connection) : null;
        string? previousVia = null;
        string? upgrade = null;
        for (var i = 0; i < head.FieldCount; i++)
        {
            var name = strings.Name(i, head.Name(buffer, i), out var kind);
            if (kind is FieldKind.HopByHop or FieldKind.Upgrade || (named is not null && named.Contains(name)))
            {
                if (kind == FieldKind.Upgrade && head.Status == 101)
                {
                    upgrade = strings.Value(i, head.Value(buffer, i));
                }

                continue;
            }

            var value = strings.Value(i, head.Value(buffer, i));
            if (kind == FieldKind.Via && _via is not null)
            {
                previousVia = previousVia is null ? value : previousVia + ", " + value;
                continue;
            }

            if (kind == FieldKind.ContentLength)
            {
                // Declared (one value: the parser refused differing ones), so the core frames the body by length (also
                // for HEAD) and aborts if the upstream falls short.
                headers.Set("Content-Length", value);
                continue;
            }

            headers.Add(name, value);
        }

        if (upgrade is not null)
        {
            headers.Set("Connection", "Upgrade");
            headers.Add("Upgrade", upgrade);
        }

        if (_via is not null)
        {
            var hop = head.VersionMinor == 0 ? "1.0 " + _via : "1.1 " + _via;
            headers.Set("Via", previousVia is null ? hop : previousVia + ", " + hop);
        }

        if (fresh)
        {
            strings.Record(connection.HeadVersion, headers);
        }
    }

    /// <summary>An interim (1xx) head's fields minus the hop-by-hop ones. Interim responses are rare: fresh strings, not the connection's cache.</summary>
    public static List<KeyValuePair<string, string>> InterimFields(UpstreamConnection connection)
    {
        var head = connection.Head;
        var buffer = connection.ReadBuffer;
        var named = head.ConnectionNamesFields ? NamedInConnection(connection) : null;
        var fields = new List<KeyValuePair<string, string>>(head.FieldCount);
        for (var i = 0; i < head.FieldCount; i++)
        {
            var name = RocketOwin.Internal.Latin1.GetString(head.Name(buffer, i));
            if (HeaderRules.IsHopByHop(name) || (named is not null && named.Contains(name)) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            fields.Add(new(name, RocketOwin.Internal.Latin1.GetString(head.Value(buffer, i))));
        }

        return fields;
    }

    private static HashSet<string>? NamedInConnection(UpstreamConnection connection)
    {
        var head = connection.Head;
        var values = new List<string>();
        for (var i = 0; i < head.FieldCount; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(head.Name(connection.ReadBuffer, i), "Connection"u8))
            {
                values.Add(RocketOwin.Internal.Latin1.GetString(head.Value(connection.ReadBuffer, i)));
            }
        }

        return HeaderRules.NamedInConnection(values);
    }
}
