namespace Microsoft.Owin.Hosting;

/// <summary>Where and what <see cref="WebApp.Start(StartOptions)"/> starts (Katana's StartOptions).</summary>
public class StartOptions
{
    /// <summary>No URL yet: add some to <see cref="Urls"/> or set <see cref="Port"/>.</summary>
    public StartOptions()
    {
        Urls = new List<string>();
        Settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>One URL, e.g. <c>http://+:8080/</c>, <c>http://localhost:9000</c>.</summary>
    public StartOptions(string url)
        : this()
    {
        ArgumentNullException.ThrowIfNull(url);
        Urls.Add(url);
    }

    /// <summary>The URLs to listen on: <c>http://+:8080/</c> or <c>http://*:8080/</c> mean every address, <c>localhost</c> is 127.0.0.1. A path becomes the PathBase.</summary>
    public IList<string> Urls { get; private set; }

    /// <summary>A port to listen on at every address when <see cref="Urls"/> is empty.</summary>
    public int? Port { get; set; }

    /// <summary>The startup: a friendly name of an [assembly: OwinStartup] or "Namespace.Type[.Method], Assembly"; null to discover.</summary>
    public string? AppStartup { get; set; }

    /// <summary>The server: only Rocket.Owin's own ("Rocket.Methods.Owin" or null) is offered.</summary>
    public string? ServerFactory { get; set; }

    /// <summary>
    /// Further settings. Rocket reads <c>key_file</c> and <c>certificate_file</c> (PEM, for https URLs) and
    /// <c>min_threads</c>, <c>max_threads</c>, <c>timeout</c> (Rocket's server parameters).
    /// </summary>
    public IDictionary<string, string> Settings { get; private set; }
}
