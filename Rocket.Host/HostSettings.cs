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

    /// <summary><c>--limit NAME=VALUE</c> and the file's <c>limits</c>, in order (the file's first, so flags win).</summary>
    public IReadOnlyList<LimitSetting> Limits { get; init; } = [];

    /// <summary>How the user gave each appInfo key (<c>--set display_idx=true</c>, <c>--root /srv</c>, <c>rocket.json: set.x</c>), for error messages.</summary>
    public IReadOnlyDictionary<string, string> Origins { get; init; } = new Dictionary<string, string>();

    /// <summary><c>--status ADDR:PORT</c>: where the operators' status page listens.</summary>
    public string? Status { get; init; }

    /// <summary><c>--access-log FILE</c>: the Combined Log Format access log.</summary>
    public string? AccessLog { get; init; }

    /// <summary><c>--access-log-rotate SIZE|daily|hourly</c>.</summary>
    public string? AccessLogRotate { get; init; }

    /// <summary><c>--access-log-keep N</c>: rotated files kept.</summary>
    public int? AccessLogKeep { get; init; }

    /// <summary>The config file these settings were read from, if any (an nlog.config beside it is used).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>These settings with every value <paramref name="flags"/> gives replacing this one; <c>set</c> keys are merged.</summary>
    public HostSettings OverrideWith(HostSettings flags)
    {
        var set = new Dictionary<string, object?>(Set, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in flags.Set)
        {
            set[key] = value;
        }

        var origins = new Dictionary<string, string>(Origins, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, origin) in flags.Origins)
        {
            origins[key] = origin;
        }

        return new HostSettings
        {
            Limits = [.. Limits, .. flags.Limits],
            Origins = origins,
            Status = flags.Status ?? Status,
            AccessLog = flags.AccessLog ?? AccessLog,
            AccessLogRotate = flags.AccessLogRotate ?? AccessLogRotate,
            AccessLogKeep = flags.AccessLogKeep ?? AccessLogKeep,
            ConfigFile = flags.ConfigFile ?? ConfigFile,
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
