using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Writes the upstream request head as bytes into the connection's write buffer: the request line exactly as the
/// client sent its method and path (RFC 9110 §9.1: methods are case-sensitive), the client's fields minus the
/// hop-by-hop ones, the framing of the body, and the forwarding fields.
/// </summary>
/// <remarks>Stateless apart from the options; called concurrently, each call on its own connection. Allocates nothing for a plain request.</remarks>
internal sealed class RequestWriter(ProxyOptions options)
{
    private readonly byte[]? _via = options.Via is null ? null : System.Text.Encoding.ASCII.GetBytes(options.Via);
    private readonly FrozenSet<string> _notForwarded = NotForwarded(options);

    /// <summary>How the request body goes upstream.</summary>
    public enum BodyFraming
    {
        None,
        Length,
        Chunked,
    }

    /// <summary>Writes the head for <paramref name="upstream"/>; <paramref name="path"/> is the raw path after path_base. Returns its length in <see cref="UpstreamConnection.WriteBuffer"/>.</summary>
    public int Write(RequestContext context, Upstream upstream, string path, UpstreamConnection connection, BodyFraming framing, bool expectContinue)
    {
        var head = context.Request;
        var w = new HeadBuffer(connection);
        w.Append(head.Method);
        w.Append(" "u8);
        if (head.Target == "*")
        {
            // RFC 9112 §3.2.4: asterisk-form, whatever path_base is.
            w.Append("*"u8);
        }
        else
        {
            w.Append(upstream.PathPrefix);
            w.Append(path);
            if (head.QueryString.Length > 0)
            {
                w.Append("?"u8);
                w.Append(head.QueryString);
            }
        }

        w.Append(" HTTP/1.1\r\nHost: "u8);
        if (options.PreserveHost && head.Host.Length > 0)
        {
            // The worker refused a Host that IsForwardableHost rejects before any connection was taken.
            w.Append(head.Host);
        }
        else
        {
            w.Append(upstream.Authority);
        }

        w.Append("\r\n"u8);
        CopyFields(context, ref w);
        if (head.IsUpgradeRequest && head.Headers.TryGetValue("Upgrade", out var upgrade))
        {
            // The one hop-by-hop pair that must cross: the upstream decides whether to switch (RFC 9110 §7.8).
            w.Append("Connection: Upgrade\r\nUpgrade: "u8);
            w.Append(upgrade);
            w.Append("\r\n"u8);
        }

        if (framing == BodyFraming.Length)
        {
            w.Append("Content-Length: "u8);
            w.Append(head.ContentLength ?? 0);
            w.Append("\r\n"u8);
        }
        else if (framing == BodyFraming.Chunked)
        {
            w.Append("Transfer-Encoding: chunked\r\n"u8);
        }

        if (expectContinue)
        {
            // End to end: the upstream's 100 makes the proxy read the body, and that first read sends the client's 100.
            w.Append("Expect: 100-continue\r\n"u8);
        }

        AddForwardingFields(context, ref w);
        w.Append("\r\n"u8);
        return w.Length;
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

    /// <summary>
    /// A Host the proxy forwards as it came: reg-name letters, digits, <c>-._~</c>, a port, an IPv6 literal. Sub-delims
    /// (<c>a,b</c>, <c>a;b</c>) are valid URI syntax but read as lists or parameters by upstream software: 400 rather than risk it.
    /// </summary>
    public static bool IsForwardableHost(string host)
    {
        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or ':' or '[' or ']' or '%'))
            {
                return false;
            }
        }

        return true;
    }

    private void CopyFields(RequestContext context, ref HeadBuffer w)
    {
        var fields = context.Request.Headers;
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

            w.Append(name);
            w.Append(": "u8);
            w.Append(fields.ValueAt(i));
            w.Append("\r\n"u8);
        }
    }

    private void AddForwardingFields(RequestContext context, ref HeadBuffer w)
    {
        var head = context.Request;
        var connection = context.Connection;
        if (options.XForwarded)
        {
            w.Append("X-Forwarded-For: "u8);
            AppendPrevious(head.Headers, "X-Forwarded-For", ref w);
            w.AppendClientAddress(connection.RemoteEndPoint.Address);
            w.Append(connection.IsSecure ? "\r\nX-Forwarded-Proto: https\r\n"u8 : "\r\nX-Forwarded-Proto: http\r\n"u8);
            if (head.Host.Length > 0)
            {
                w.Append("X-Forwarded-Host: "u8);
                w.Append(head.Host);
                w.Append("\r\n"u8);
            }
        }

        if (options.Forwarded)
        {
            w.Append("Forwarded: "u8);
            AppendPrevious(head.Headers, "Forwarded", ref w);
            w.Append(ForwardedElement(connection.RemoteEndPoint.Address, connection.IsSecure ? "https" : "http", head.Host));
            w.Append("\r\n"u8);
        }

        if (_via is not null)
        {
            w.Append("Via: "u8);
            AppendPrevious(head.Headers, "Via", ref w);
            w.Append(head.Version == RocketOwin.HttpVersion.Http11 ? "1.1 "u8 : "1.0 "u8);
            w.Append(_via);
            w.Append("\r\n"u8);
        }
    }

    /// <summary>The client's own values of a list field, each followed by ", ": ours is appended (RFC 9110 §5.3 combining).</summary>
    private static void AppendPrevious(RequestHeaders fields, string name, ref HeadBuffer w)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields.NameAt(i).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                w.Append(fields.ValueAt(i));
                w.Append(", "u8);
            }
        }
    }

    /// <summary>Hop-by-hop fields and those the proxy writes itself: the client's copies are not forwarded.</summary>
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

    /// <summary>Appends to the connection's write buffer, growing it (and keeping the larger one) when a head does not fit.</summary>
    private ref struct HeadBuffer(UpstreamConnection connection)
    {
        private byte[] _buffer = connection.WriteBuffer;

        public int Length { get; private set; }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }

        public void Append(string text)
        {
            Ensure(text.Length);

            // Field values are bytes: obs-text (RFC 9110 §5.5) goes out as it came in (Latin-1).
            Latin1.Write(text, _buffer.AsSpan(Length));
            Length += text.Length;
        }

        public void Append(long value)
        {
            Ensure(20);
            value.TryFormat(_buffer.AsSpan(Length), out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            Length += written;
        }

        /// <summary>
        /// The client's address as text: formatted once per address on this upstream connection (the last one is kept), not
        /// per request; clients of one pooled connection are usually the same connection, or the same address, again.
        /// </summary>
        public void AppendClientAddress(IPAddress address)
        {
            if (!ReferenceEquals(address, connection.ClientAddress) && !address.Equals(connection.ClientAddress))
            {
                if (!address.TryFormat(connection.ClientAddressText, out var formatted))
                {
                    Ensure(64);
                    address.TryFormat(_buffer.AsSpan(Length), out var written);
                    Length += written;
                    return;
                }

                connection.ClientAddressLength = formatted;
                connection.ClientAddress = address;
            }

            Append(connection.ClientAddressText.AsSpan(0, connection.ClientAddressLength));
        }

        private void Ensure(int bytes)
        {
            if (_buffer.Length - Length >= bytes)
            {
                return;
            }

            var larger = new byte[Math.Max(_buffer.Length * 2, Length + bytes)];
            _buffer.AsSpan(0, Length).CopyTo(larger);
            _buffer = larger;
            connection.WriteBuffer = larger;
        }
    }
}
