using System.Globalization;
using RocketOwin.Methods.Owin.Internal;

namespace RocketOwin.Methods.Owin;

/// <summary>
/// Katana's server-factory convention (as Microsoft.Owin.Host.HttpListener and Nowin offered it): a host calls
/// <see cref="Initialize"/> with the properties, builds its AppFunc, then <see cref="Create"/> to serve it on
/// <c>host.Addresses</c>. Disposing the result stops the server.
/// </summary>
public static class OwinServerFactory
{
    /// <summary>Advertises the server: owin.Version, server.Capabilities (server.Name, sendfile.Version) and an empty host.Addresses if none.</summary>
    public static void Initialize(IDictionary<string, object> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[OwinKeys.Version] = OwinKeys.OwinVersion;
        if (!properties.TryGetValue(OwinKeys.Capabilities, out var value) || value is not IDictionary<string, object> capabilities)
        {
            capabilities = new Dictionary<string, object>(StringComparer.Ordinal);
            properties[OwinKeys.Capabilities] = capabilities;
        }

        capabilities[OwinKeys.ServerName] = "Rocket.Owin";
        capabilities[OwinKeys.SendFileVersion] = "1.0";
        if (!properties.ContainsKey(OwinKeys.Addresses))
        {
            properties[OwinKeys.Addresses] = new List<IDictionary<string, object>>();
        }
    }

    /// <summary>Serves <paramref name="app"/> on every entry of <c>host.Addresses</c> (scheme, host, port, path).</summary>
    /// <exception cref="ArgumentException">No address, or an address Rocket cannot listen on.</exception>
    public static IDisposable Create(Func<IDictionary<string, object>, Task> app, IDictionary<string, object> properties)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(properties);
        var urls = new List<string>();
        if (properties.TryGetValue(OwinKeys.Addresses, out var value) && value is IEnumerable<IDictionary<string, object>> addresses)
        {
            foreach (var address in addresses)
            {
                string Part(string key, string fallback) => address.TryGetValue(key, out var v) && v is not null
                    ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? fallback
                    : fallback;
                var scheme = Part("scheme", "http");
                var host = Part("host", "+");
                urls.Add($"{scheme}://{(host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host)}:{Part("port", scheme == "https" ? "443" : "80")}{Part("path", string.Empty)}");
            }
        }

        if (urls.Count == 0)
        {
            throw new ArgumentException("host.Addresses is empty: give at least one address (scheme, host, port, path).", nameof(properties));
        }

        return WebAppHost.Start(urls, new Dictionary<string, string>(), new AppInfo { ["owin_app"] = app });
    }
}
