using Owin;

namespace RocketOwin.Methods.Owin;

/// <summary>The owin method's settings, read from <c>appInfo</c> once at startup (see README.md for every key).</summary>
public sealed class OwinOptions
{
    /// <summary>appInfo["owin_app"]: an OWIN AppFunc to serve as is.</summary>
    public Func<IDictionary<string, object>, Task>? App { get; init; }

    /// <summary>appInfo["startup"]: a Type, an <see cref="Action{IAppBuilder}"/>, or a "Type[.Method], Assembly" / friendly-name string.</summary>
    public object? Startup { get; init; }

    /// <summary>appInfo["app"]: path of an application DLL whose Startup is discovered (OwinHost's role).</summary>
    public string? AppPath { get; init; }

    /// <summary>appInfo["path_base"]: the path the application is mounted at ("" or e.g. "/app"); requests outside it get 404.</summary>
    /// <remarks>With several mount points, the first of <see cref="PathBases"/>.</remarks>
    public string PathBase { get; init; } = string.Empty;

    /// <summary>
    /// Every mount point when appInfo["path_base"] lists several (Katana's hosts served one app under several URL
    /// prefixes); a request takes the longest that matches as its path base. "" among them serves everything else.
    /// </summary>
    public IReadOnlyList<string> PathBases { get; init; } = [string.Empty];

    /// <summary>appInfo["host_addresses"]: host.Addresses for the application's properties.</summary>
    public IList<IDictionary<string, object>> Addresses { get; init; } = [];

    /// <summary>The default of <see cref="WebSocketMaxMessageSize"/>: 4 MiB.</summary>
    public const long DefaultWebSocketMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>The default of <see cref="WebSocketKeepAlive"/>: 30 s, the BCL's WebSocket.DefaultKeepAliveInterval that Katana used.</summary>
    public static readonly TimeSpan DefaultWebSocketKeepAlive = TimeSpan.FromSeconds(30);

    /// <summary>
    /// appInfo["websocket_max_message_size"]: bytes one WebSocket message may total across its frames; a client that
    /// sends more gets close 1009 (RFC 6455 §7.4.1) and the application's receive fails. 0: no limit.
    /// </summary>
    public long WebSocketMaxMessageSize { get; init; } = DefaultWebSocketMaxMessageSize;

    /// <summary>appInfo["websocket_keep_alive"]: interval of keep-alive pongs on accepted WebSockets (0: none); the accept option websocket.KeepAliveInterval overrides it.</summary>
    public TimeSpan WebSocketKeepAlive { get; init; } = DefaultWebSocketKeepAlive;

    /// <summary>Reads and validates the settings (the same shape as the other methods' options: <c>XOptions.From(appInfo)</c>).</summary>
    /// <exception cref="ArgumentException">A value has the wrong type, or no application was given.</exception>
    public static OwinOptions From(AppInfo appInfo)
    {
        ArgumentNullException.ThrowIfNull(appInfo);
        appInfo.TryGetValue("owin_app", out var app);
        appInfo.TryGetValue("startup", out var startup);
        var appPath = appInfo.GetString("app");
        appInfo.TryGetValue("path_base", out var pathBaseValue);
        var pathBases = pathBaseValue switch
        {
            null => [string.Empty],
            string one => [one],
            IEnumerable<string> several => several.ToArray(),
            _ => throw AppInfo.Invalid("path_base", pathBaseValue, "a path string (\"/app\") or a list of them"),
        };
        if (pathBases.Length == 0)
        {
            pathBases = [string.Empty];
        }

        for (var i = 0; i < pathBases.Length; i++)
        {
            pathBases[i] = (pathBases[i] ?? string.Empty).TrimEnd('/');
            if (pathBases[i].Length > 0 && pathBases[i][0] != '/')
            {
                throw AppInfo.Invalid("path_base", pathBases[i], "an empty string or a path starting with '/'");
            }
        }

        var pathBase = pathBases[0];
        appInfo.TryGetValue("host_addresses", out var addresses);
        var maxMessageSize = appInfo.GetInt64("websocket_max_message_size", DefaultWebSocketMaxMessageSize, min: 0);
        var keepAlive = appInfo.GetDuration("websocket_keep_alive", DefaultWebSocketKeepAlive);

        if (app is not null and not Func<IDictionary<string, object>, Task>)
        {
            throw AppInfo.Invalid("owin_app", app, "an OWIN AppFunc, Func<IDictionary<string, object>, Task>");
        }

        if (startup is not null and not (Type or Action<IAppBuilder> or string))
        {
            throw AppInfo.Invalid("startup", startup, "a startup Type, an Action<IAppBuilder>, or a \"Type[.Method], Assembly\" string");
        }

        if (startup is string s && string.IsNullOrWhiteSpace(s))
        {
            startup = null;
        }

        if (app is not null && (startup is not null || appPath is not null))
        {
            throw AppInfo.Invalid("owin_app", app, "either owin_app alone, or startup and/or app — not both");
        }

        if (app is null && startup is null && string.IsNullOrWhiteSpace(appPath))
        {
            throw new ArgumentException("The owin method needs an application: appInfo[\"owin_app\"] (an AppFunc), appInfo[\"startup\"] (a Startup type, an Action<IAppBuilder> or a \"Type, Assembly\" string), or appInfo[\"app\"] (the path of an application DLL).", nameof(appInfo));
        }

        if (addresses is not null and not IList<IDictionary<string, object>>)
        {
            throw AppInfo.Invalid("host_addresses", addresses, "an IList<IDictionary<string, object>> (OWIN host.Addresses)");
        }

        return new OwinOptions
        {
            App = (Func<IDictionary<string, object>, Task>?)app,
            Startup = startup,
            AppPath = string.IsNullOrWhiteSpace(appPath) ? null : appPath,
            PathBase = pathBase,
            PathBases = pathBases,
            Addresses = (IList<IDictionary<string, object>>?)addresses ?? [],
            WebSocketMaxMessageSize = maxMessageSize,
            WebSocketKeepAlive = keepAlive,
        };
    }

    /// <summary>The former name of <see cref="From"/>, kept so code written against it still compiles.</summary>
    /// <exception cref="ArgumentException">A value has the wrong type, or no application was given.</exception>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static OwinOptions Parse(AppInfo appInfo) => From(appInfo);
}
