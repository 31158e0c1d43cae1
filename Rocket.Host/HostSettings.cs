namespace RocketOwin.Host;

/// <summary>
/// Everything the rocket command can be told, from a config file or flags. Null means "not given here",
/// so flags can be laid over the file with <see cref="OverrideWith"/>.
/// </summary>
internal sealed record HostSettings
{
    public string? Method { get; init; }

    public IReadOnlyList<string>? Bind { get; init; }

    public string? Root { get; init; }

    public IReadOnlyList<string>? Upstream { get; init; }

    public string? App { get; init; }

    /// <summary>Other appInfo keys (<c>--set key=value</c>, or the file's <c>set</c> object).</summary>
    public IReadOnlyDictionary<string, object?> Set { get; init; } = new Dictionary<string, object?>();

    public int? MinThreads { get; init; }

    public int? MaxThreads { get; init; }

    public int? QueueSize { get; init; }

    public int? Timeout { get; init; }

    public string? Plugins { get; init; }

    /// <summary>Ask TLS clients for a certificate (<see cref="Rocket.RequestClientCertificate"/>).</summary>
    public bool? ClientCertificates { get; init; }

    /// <summary>These settings with every value <paramref name="flags"/> gives replacing this one; <c>set</c> keys are merged.</summary>
    public HostSettings OverrideWith(HostSettings flags)
    {
        var set = new Dictionary<string, object?>(Set, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in flags.Set)
        {
            set[key] = value;
        }

        return new HostSettings
        {
            Method = flags.Method ?? Method,
            Bind = flags.Bind is { Count: > 0 } ? flags.Bind : Bind,
            Root = flags.Root ?? Root,
            Upstream = flags.Upstream is { Count: > 0 } ? flags.Upstream : Upstream,
            App = flags.App ?? App,
            Set = set,
            MinThreads = flags.MinThreads ?? MinThreads,
            MaxThreads = flags.MaxThreads ?? MaxThreads,
            QueueSize = flags.QueueSize ?? QueueSize,
            Timeout = flags.Timeout ?? Timeout,
            Plugins = flags.Plugins ?? Plugins,
            ClientCertificates = flags.ClientCertificates ?? ClientCertificates,
        };
    }

    /// <summary>The method's appInfo: <c>set</c> keys, then the named flags (<c>document_root</c>, <c>upstream</c>, <c>app</c>) over them.</summary>
    public AppInfo ToAppInfo()
    {
        var appInfo = new AppInfo();
        foreach (var (key, value) in Set)
        {
            appInfo[key] = value;
        }

        if (Root is not null)
        {
            appInfo["document_root"] = Root;
        }

        if (Upstream is { Count: > 0 })
        {
            appInfo["upstream"] = string.Join(",", Upstream);
        }

        if (App is not null)
        {
            appInfo["app"] = App;
        }

        return appInfo;
    }

    /// <summary>The interfaces to listen on (default 127.0.0.1:8080).</summary>
    /// <exception cref="FormatException">A bind value is malformed; the message names it.</exception>
    public IReadOnlyList<ListenInterface> ToInterfaces()
        => (Bind is { Count: > 0 } ? Bind : ["127.0.0.1:8080"]).Select(ListenInterface.Parse).ToList();
}
