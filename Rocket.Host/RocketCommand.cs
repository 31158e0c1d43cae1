using System.CommandLine;
using System.Globalization;

namespace RocketOwin.Host;

/// <summary>
/// The command line: <c>rocket --method static --root ./public --bind 127.0.0.1:8080</c>. Usage errors exit 2,
/// start failures 1, a clean stop 0; every error is one line on stderr.
/// </summary>
internal static class RocketCommand
{
    private static readonly Option<string> MethodOption = new("--method", "-m")
    {
        Description = "The method to serve: static (alias fs), proxy, owin, or a plugin's name (see --list-methods).",
        HelpName = "NAME",
    };

    private static readonly Option<string[]> BindOption = new("--bind", "-b")
    {
        Description = "Listen on ADDR:PORT, or ADDR:PORT,KEY.pem,CERT.pem for HTTPS; repeat for more. IPv6: [::1]:8080. Default 127.0.0.1:8080.",
        HelpName = "ADDR:PORT[,KEY,CERT]",
        Arity = ArgumentArity.OneOrMore,
    };

    private static readonly Option<string> RootOption = new("--root")
    {
        Description = "Document root for the static method (appInfo document_root).",
        HelpName = "DIR",
    };

    private static readonly Option<string[]> UpstreamOption = new("--upstream")
    {
        Description = "Upstream URL for the proxy method (appInfo upstream); repeat for several.",
        HelpName = "URL",
        Arity = ArgumentArity.OneOrMore,
    };

    private static readonly Option<string> AppOption = new("--app")
    {
        Description = "The application DLL for the owin method (appInfo app); its Startup is found and run.",
        HelpName = "PATH",
    };

    private static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Any other appInfo key, e.g. --set display_index=true; repeat for more.",
        HelpName = "KEY=VALUE",
        Arity = ArgumentArity.OneOrMore,
    };

    private static readonly Option<int> MinThreadsOption = new("--min-threads") { Description = "Worker threads always running (default 10).", HelpName = "N" };

    private static readonly Option<int> MaxThreadsOption = new("--max-threads") { Description = "Most worker threads; 0 = no limit (default: 64 per processor, at most half the pids cgroup limit).", HelpName = "N" };

    private static readonly Option<int> QueueSizeOption = new("--queue-size") { Description = "Listen backlog (default: the OS maximum).", HelpName = "N" };

    private static readonly Option<int> TimeoutOption = new("--timeout") { Description = "Seconds an idle keep-alive connection is kept (default 600).", HelpName = "SECONDS" };

    private static readonly Option<string> PluginsOption = new("--plugins")
    {
        Description = "The plugins folder (<Name>/<Name>.dll). Default: $ROCKET_PLUGINS, else plugins/ next to rocket, else plugins/ of the Rocket.Owin clone.",
        HelpName = "DIR",
    };

    private static readonly Option<string> ConfigOption = new("--config", "-c")
    {
        Description = "A JSON file with the same settings (method, bind, root, upstream, app, set, minThreads, maxThreads, queueSize, timeout, limits, status, accessLog, plugins, clientCertificates); flags override it.",
        HelpName = "rocket.json",
    };

    private static readonly Option<bool> ClientCertificatesOption = new("--client-certificates")
    {
        Description = "On HTTPS interfaces, ask clients for a TLS certificate (optional for them); the owin method shows it as ssl.ClientCertificate.",
    };

    private static readonly Option<string[]> LimitOption = new("--limit")
    {
        Description = "Set a limit: NAME is a ServerLimits property (any case), e.g. --limit MaxRequestBodySize=200MiB, --limit RequestHeadersTimeout=10s; "
            + "sizes in bytes or KiB/MiB/GiB, durations in seconds or ms/s/min, none for no limit; repeat for more. Limits: " + string.Join(", ", LimitSettings.Names) + ".",
        HelpName = "NAME=VALUE",
        Arity = ArgumentArity.OneOrMore,
    };

    private static readonly Option<string> StatusOption = new("--status")
    {
        Description = "Serve the operators' status page on ADDR:PORT (a separate listener): / (HTML), /json, /metrics (Prometheus).",
        HelpName = "ADDR:PORT",
    };

    private static readonly Option<string> AccessLogOption = new("--access-log")
    {
        Description = "Write an access log to FILE in Combined Log Format plus the duration in microseconds (through NLog, logger Rocket.Access).",
        HelpName = "FILE",
    };

    private static readonly Option<string> AccessLogRotateOption = new("--access-log-rotate")
    {
        Description = "Rotate the access log when it passes SIZE (e.g. 100MiB), or daily or hourly; default: never.",
        HelpName = "SIZE|daily|hourly",
    };

    private static readonly Option<int> AccessLogKeepOption = new("--access-log-keep") { Description = "Rotated access log files kept (default 10).", HelpName = "N" };

    private static readonly Option<bool> ListMethodsOption = new("--list-methods") { Description = "Print the methods found and where each comes from, then exit." };

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("rocket: serve a Rocket.Owin method over HTTP/1.1. Ctrl-C or SIGTERM stops it.")
        {
            MethodOption, BindOption, RootOption, UpstreamOption, AppOption, SetOption,
            MinThreadsOption, MaxThreadsOption, QueueSizeOption, TimeoutOption, LimitOption, StatusOption, AccessLogOption, AccessLogRotateOption, AccessLogKeepOption,
            PluginsOption, ClientCertificatesOption, ConfigOption, ListMethodsOption,
        };
        root.SetAction(parse => Execute(parse, output, error));

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            error.WriteLine($"rocket: {result.Errors[0].Message} (see rocket --help)");
            return 2;
        }

        return result.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static int Execute(ParseResult parse, TextWriter output, TextWriter error)
    {
        try
        {
            var flags = FromFlags(parse);
            var configFile = parse.GetValue(ConfigOption);
            var settings = configFile is null ? flags : ConfigFile.Read(configFile).OverrideWith(flags);
            var plugins = PluginsFolder.Resolve(settings.Plugins);
            if (parse.GetValue(ListMethodsOption))
            {
                return ListMethods(plugins, output);
            }

            if (string.IsNullOrWhiteSpace(settings.Method))
            {
                throw new HostException("no method given: use --method NAME (rocket --list-methods shows the methods found).");
            }

            return ServerRunner.Run(settings, plugins, output, configFile is null ? null : () => ConfigFile.Read(configFile).OverrideWith(flags));
        }
        catch (HostException e)
        {
            error.WriteLine("rocket: " + OneLine(e.Message));
            return e.InnerException is null ? 2 : 1;
        }
    }

    private static HostSettings FromFlags(ParseResult parse)
    {
        var set = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        var origins = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in parse.GetValue(SetOption) ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new HostException($"--set '{pair}': expected KEY=VALUE.");
            }

            var key = pair[..equals].Trim();
            set[key] = pair[(equals + 1)..];
            origins[key] = $"--set {pair}";
        }

        var limits = new List<LimitSetting>();
        foreach (var pair in parse.GetValue(LimitOption) ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new HostException($"--limit '{pair}': expected NAME=VALUE, e.g. --limit MaxRequestBodySize=200MiB.");
            }

            limits.Add(new LimitSetting(pair[..equals], pair[(equals + 1)..], $"--limit {pair}"));
        }

        foreach (var (option, key) in new[] { (RootOption, "document_root"), (AppOption, "app") })
        {
            if (parse.GetValue(option) is { } given)
            {
                origins[key] = $"{option.Name} {given}";
            }
        }

        if (parse.GetValue(UpstreamOption) is { Length: > 0 } upstreams)
        {
            origins["upstream"] = "--upstream " + string.Join(" --upstream ", upstreams);
        }

        return new HostSettings
        {
            Method = parse.GetValue(MethodOption),
            Bind = parse.GetValue(BindOption),
            Root = FullPath(parse.GetValue(RootOption)),
            Upstream = parse.GetValue(UpstreamOption),
            App = FullPath(parse.GetValue(AppOption)),
            Set = set,
            Origins = origins,
            Limits = limits,
            Status = parse.GetValue(StatusOption),
            AccessLog = FullPath(parse.GetValue(AccessLogOption)),
            AccessLogRotate = parse.GetValue(AccessLogRotateOption),
            AccessLogKeep = Given(parse, AccessLogKeepOption),
            MinThreads = Given(parse, MinThreadsOption),
            MaxThreads = Given(parse, MaxThreadsOption),
            QueueSize = Given(parse, QueueSizeOption),
            Timeout = Given(parse, TimeoutOption),
            Plugins = parse.GetValue(PluginsOption),
            ClientCertificates = parse.GetResult(ClientCertificatesOption) is null ? null : parse.GetValue(ClientCertificatesOption),
        };
    }

    private static int ListMethods(string plugins, TextWriter output)
    {
        var methods = Rocket.ListMethods(plugins);
        output.WriteLine($"Plugins folder: {plugins}{(Directory.Exists(plugins) ? string.Empty : " (does not exist)")}");
        if (methods.Count == 0)
        {
            output.WriteLine("No methods found. Publish some with: dotnet tool restore && dotnet cake --target=PublishPlugins");
            return 0;
        }

        var width = methods.Max(m => m.Name.Length);
        foreach (var (name, source, problem) in methods.OrderBy(m => m.Problem is not null).ThenBy(m => m.Name, StringComparer.OrdinalIgnoreCase))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name.PadRight(width)}  {source}{(problem is null ? string.Empty : "  [cannot load: " + OneLine(problem) + "]")}"));
        }

        return 0;
    }

    private static int? Given(ParseResult parse, Option<int> option) => parse.GetResult(option) is null ? null : parse.GetValue(option);

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    internal static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
