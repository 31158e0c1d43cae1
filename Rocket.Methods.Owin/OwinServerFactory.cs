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
    private static readonly NLog.Logger Log = NLog.LogManager.GetLogger("Rocket.Errors.Owin");

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

    /// <summary>
    /// Serves <paramref name="app"/> on every entry of <c>host.Addresses</c> (scheme, host, port, path). Entries that
    /// differ only in path share one port, and the app is mounted at each path. An https entry needs PEM files:
    /// <c>key_file</c> and <c>certificate_file</c> in the entry, or in <paramref name="properties"/> for every entry.
    /// </summary>
    /// <remarks>Without any address the server listens nowhere, as Katana's HttpListener factory did; disposing it is still fine.</remarks>
    /// <exception cref="ArgumentException">An address Rocket cannot listen on, or an https one without its key and certificate.</exception>
    public static IDisposable Create(Func<IDictionary<string, object>, Task> app, IDictionary<string, object> properties)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(properties);
        var urls = new List<string>();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        CopyFiles(properties, settings);
        if (properties.TryGetValue(OwinKeys.Addresses, out var value) && value is IEnumerable<IDictionary<string, object>> addresses)
        {
            foreach (var address in addresses)
            {
                var scheme = Part(address, "scheme", "http");
                var host = Part(address, "host", "+");
                urls.Add($"{scheme}://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? "[" + host + "]" : host)}:{Part(address, "port", scheme == "https" ? "443" : "80")}{Part(address, "path", string.Empty)}");
                CopyFiles(address, settings);
            }
        }

        if (urls.Count == 0)
        {
            Log.Warn("OwinServerFactory.Create: host.Addresses is empty, so the application is served nowhere (as Katana's HttpListener factory did).");
            return new NothingToStop();
        }

        var appInfo = new AppInfo { ["owin_app"] = app };
        var running = WebAppHost.Start(urls, settings, appInfo);

        // Port 0 asked the system for a port: tell the host which one it got, in its own entries.
        if (appInfo["host_addresses"] is IList<IDictionary<string, object>> served && value is IList<IDictionary<string, object>> given && served.Count == given.Count)
        {
            for (var i = 0; i < given.Count; i++)
            {
                given[i]["port"] = served[i]["port"];
            }
        }

        return running;
    }

    private static string Part(IDictionary<string, object> address, string key, string fallback)
        => address.TryGetValue(key, out var v) && v is not null
            ? Convert.ToString(v, CultureInfo.InvariantCulture) is { Length: > 0 } text ? text : fallback
            : fallback;

    // The PEM files for https; one pair serves every https address, as Rocket's StartOptions.Settings does.
    private static void CopyFiles(IDictionary<string, object> from, Dictionary<string, string> to)
    {
        foreach (var key in (string[])["key_file", "certificate_file"])
        {
            if (from.TryGetValue(key, out var v) && v is string { Length: > 0 } path)
            {
                if (to.TryGetValue(key, out var existing) && existing != path)
                {
                    throw new ArgumentException($"host.Addresses gives two different {key} values ('{existing}' and '{path}'): Rocket serves every https address with one key and certificate.", nameof(from));
                }

                to[key] = path;
            }
        }
    }

    private sealed class NothingToStop : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
