using System.Globalization;
using System.Net;
using Microsoft.Owin.Hosting;

namespace RocketOwin.Methods.Owin.Internal;

/// <summary>What WebApp.Start and OwinServerFactory.Create share: Katana-style URLs to Rocket interfaces, then a Rocket in the background.</summary>
internal static class WebAppHost
{
    /// <summary>The method name WebApp registers its own worker under, so it never picks up another copy of the owin plugin.</summary>
    public const string MethodName = "owin-webapp";

    static WebAppHost() => global::RocketOwin.Rocket.RegisterMethod(MethodName, static () => new OwinWorker());

    /// <summary>Starts a startup (Type, Action&lt;IAppBuilder&gt;, string, or null to discover).</summary>
    public static RunningWebApp Start(StartOptions options, object? startup)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ServerFactory is { Length: > 0 } factory && !factory.StartsWith("Rocket", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"StartOptions.ServerFactory '{factory}' is not available: Rocket.Owin serves with its own server (leave ServerFactory null or use \"Rocket.Methods.Owin\").");
        }

        var urls = options.Urls.Count > 0
            ? options.Urls
            : options.Port is { } port ? [$"http://+:{port.ToString(CultureInfo.InvariantCulture)}/"] : throw new ArgumentException("StartOptions needs a URL or a Port.", nameof(options));
        var appInfo = new AppInfo { ["startup"] = startup };
        return Start(urls, options.Settings, appInfo);
    }

    /// <summary>Starts Rocket with the owin method on <paramref name="urls"/>.</summary>
    /// <remarks>
    /// URLs that differ only in their path share one listening socket (as HttpListener prefixes did): the app is
    /// mounted at each path, and a request's path base is the longest that matches. Port 0 entries for the same
    /// scheme and host share the one port the system picks.
    /// </remarks>
    public static RunningWebApp Start(IEnumerable<string> urls, IDictionary<string, string> settings, AppInfo appInfo)
    {
        var interfaces = new List<ListenInterface>();
        var listening = new Dictionary<(string Scheme, IPAddress Address, int Port), int>();
        var addresses = new List<(IDictionary<string, object> Entry, int Interface)>();
        var paths = new List<string>();
        foreach (var url in urls)
        {
            var (scheme, host, port, path) = ParseUrl(url);
            if (!paths.Contains(path, StringComparer.OrdinalIgnoreCase))
            {
                paths.Add(path);
            }

            foreach (var ip in Resolve(host))
            {
                if (!listening.TryGetValue((scheme, ip, port), out var index))
                {
                    index = interfaces.Count;
                    listening.Add((scheme, ip, port), index);
                    interfaces.Add(scheme == "https"
                        ? new ListenInterface(ip.ToString(), port, Setting(settings, "key_file", url), Setting(settings, "certificate_file", url))
                        : new ListenInterface(ip.ToString(), port));
                }

                addresses.Add((HostAddresses.Entry(scheme, host, port, path), index));
            }
        }

        appInfo["path_base"] = paths.Count == 1 ? paths[0] : (object)paths;
        appInfo["host_addresses"] = addresses.Select(a => a.Entry).ToList();
        var server = new global::RocketOwin.Rocket(
            interfaces,
            MethodName,
            appInfo,
            minThreads: Number(settings, "min_threads", 10),
            maxThreads: settings.ContainsKey("max_threads") ? Number(settings, "max_threads", 0) : null,
            timeout: Number(settings, "timeout", 600),
            handleSignals: false);
        server.Start(background: true);

        var bound = server.BoundEndPoints;
        foreach (var (entry, index) in addresses)
        {
            if (index < bound.Count)
            {
                entry["port"] = bound[index].Port.ToString(CultureInfo.InvariantCulture);
            }
        }

        return new RunningWebApp(server);
    }

    /// <summary>Splits <c>scheme://host:port/path</c>; Katana's <c>+</c> and <c>*</c> hosts are accepted.</summary>
    internal static (string Scheme, string Host, int Port, string Path) ParseUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? string.Empty : url[..schemeEnd].ToUpperInvariant() switch
        {
            "HTTP" => "http",
            "HTTPS" => "https",
            _ => string.Empty,
        };
        if (scheme.Length == 0)
        {
            throw new ArgumentException($"URL '{url}' must start with http:// or https://.", nameof(url));
        }

        var rest = url[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? string.Empty : rest[slash..].TrimEnd('/');
        string host;
        string? portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? throw new ArgumentException($"URL '{url}' has an unterminated IPv6 address.", nameof(url)) : authority[1..close];
            portText = authority.Length > close + 2 && authority[close + 1] == ':' ? authority[(close + 2)..] : null;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
        }

        var port = scheme == "https" ? 443 : 80;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort))
        {
            throw new ArgumentException($"URL '{url}' has an invalid port '{portText}'.", nameof(url));
        }

        if (host.Length == 0)
        {
            throw new ArgumentException($"URL '{url}' has no host (use + or * for every address).", nameof(url));
        }

        return (scheme, host, port, path);
    }

    internal static IPAddress[] Resolve(string host)
    {
        if (host is "+" or "*")
        {
            return [IPAddress.Any];
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback];
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return [ip];
        }

        // A machine name: listen where it resolves, as HttpListener's host-specific prefixes effectively did.
        var resolved = Dns.GetHostAddresses(host);
        return resolved.Length > 0 ? resolved : throw new ArgumentException($"Host '{host}' does not resolve to an address.", nameof(host));
    }

    private static string Setting(IDictionary<string, string> settings, string key, string url)
        => settings.TryGetValue(key, out var value) && value.Length > 0
            ? value
            : throw new ArgumentException($"URL '{url}' is https: StartOptions.Settings needs \"key_file\" and \"certificate_file\" (PEM).", nameof(settings));

    private static int Number(IDictionary<string, string> settings, string key, int defaultValue)
    {
        if (!settings.TryGetValue(key, out var text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ArgumentException($"StartOptions.Settings[\"{key}\"] = \"{text}\" is not an integer.", nameof(settings));
    }
}
