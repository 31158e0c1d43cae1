using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Owin.Builder;
using NLog;
using Owin;
using RocketOwin;
using RocketOwin.Methods.Owin;
using RocketOwin.Methods.Owin.Internal;

[assembly: RocketMethod("owin", typeof(OwinWorker))]

namespace RocketOwin.Methods.Owin;

/// <summary>
/// The <c>owin</c> method: serves an OWIN 1.0 application (an AppFunc, or a Katana Startup built into one) with
/// Rocket. The pipeline is built once in <see cref="Initialize"/>; each request gets an OWIN environment over
/// Rocket's request, reused per connection.
/// </summary>
/// <remarks>
/// An application that awaits frees the Rocket worker thread; its request finishes on the continuation, which runs
/// on the .NET thread pool (<see cref="AppSynchronizationContext"/>), never on a socket engine's thread.
/// Faults become a 500 before anything was sent and an aborted connection after (Rocket's rule).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source is cancelled and disposed in Shutdown, the worker's end of life.")]
public sealed class OwinWorker : Worker
{
    private static readonly Logger Log = LogManager.GetLogger("Rocket.Errors.Owin");
    private readonly ConditionalWeakTable<RequestContext, OwinEnvironment> _environments = [];
    private readonly CancellationTokenSource _disposing = new();
    private OwinOptions? _options;
    private Func<IDictionary<string, object>, Task>? _app;
    private OwinHostContext? _host;
    private string[] _pathBases = [];
    private bool _servesRoot = true;

    /// <summary>The validated settings; available once the server started.</summary>
    public OwinOptions Options => _options ?? throw new InvalidOperationException("The owin worker is not initialized yet.");

    /// <summary>The built pipeline (after Initialize).</summary>
    internal Func<IDictionary<string, object>, Task> App => _app ?? throw new InvalidOperationException("The owin worker has not been initialised.");

    /// <inheritdoc />
    /// <remarks>Every key README.md documents; any other key stops the server at start (a typo must not pass silently).</remarks>
    protected internal override IReadOnlyCollection<string> AppInfoKeys { get; } = ["owin_app", "startup", "app", "path_base", "host_addresses", "websocket_keep_alive", "websocket_max_message_size"];

    /// <inheritdoc />
    protected override void Initialize()
    {
        var options = _options = OwinOptions.From(AppInfo);
        _servesRoot = options.PathBases.Contains(string.Empty);
        _pathBases = [.. options.PathBases.Where(p => p.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(p => p.Length)];
        var capabilities = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [OwinKeys.ServerName] = "Rocket.Owin",
            [OwinKeys.SendFileVersion] = "1.0",
            [OwinKeys.SendFileSupport] = "SendFileAsync",
            [WebSocketKeys.Version] = WebSocketKeys.ExtensionVersion,
            [WebSocketKeys.OpaqueVersion] = WebSocketKeys.ExtensionVersion,
        };
        _host = new OwinHostContext(capabilities, TraceTextWriter.Create(), _disposing.Token)
        {
            WebSocketKeepAlive = options.WebSocketKeepAlive,
            WebSocketMaxMessageSize = options.WebSocketMaxMessageSize,
        };
        _app = options.App ?? BuildPipeline(options, capabilities);
    }

    /// <inheritdoc />
    protected override ValueTask HandleAsync(RequestContext context)
    {
        var path = context.Request.Path;
        var pathBase = string.Empty;
        if (_pathBases.Length > 0)
        {
            if (MatchPathBase(path) is { } matched)
            {
                pathBase = matched;
                path = path[pathBase.Length..];
            }
            else if (!_servesRoot)
            {
                context.Response.StatusCode = 404;
                return ValueTask.CompletedTask;
            }
        }

        if (context.Request.IsUpgradeRequest && OpaqueUpgradeOffer.RefuseBadHandshake(context))
        {
            return ValueTask.CompletedTask;
        }

        if (!_environments.TryGetValue(context, out var environment))
        {
            environment = new OwinEnvironment(_host!);
            _environments.AddOrUpdate(context, environment);
        }

        environment.Reset(context, pathBase, path);
        Task task;
        using (AppSynchronizationContext.Enter())
        {
            task = _app!(environment);
        }

        if (environment.Upgrade is { } upgrade)
        {
            // An upgraded connection's exchange is not reused: its environment must not outlive the application's use of it.
            _environments.Remove(context);
            return new ValueTask(upgrade.CompleteAsync(task));
        }

        return task.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(task);
    }

    /// <summary>The longest mount point <paramref name="path"/> is under (ignoring case, whole segments), spelled as the request spelled it (as Katana's hosts did); null for none.</summary>
    private string? MatchPathBase(string path)
    {
        foreach (var candidate in _pathBases)
        {
            if (path.StartsWith(candidate, StringComparison.OrdinalIgnoreCase) && (path.Length == candidate.Length || path[candidate.Length] == '/'))
            {
                return path.StartsWith(candidate, StringComparison.Ordinal) ? candidate : path[..candidate.Length];
            }
        }

        return null;
    }

    /// <inheritdoc />
    protected override void Shutdown()
    {
        try
        {
            _disposing.Cancel();
        }
        catch (AggregateException e)
        {
            Log.Error(e, "A host.OnAppDisposing callback failed.");
        }
        finally
        {
            _disposing.Dispose();
            _host?.WebSocketSessions.Dispose();
        }
    }

    private Func<IDictionary<string, object>, Task> BuildPipeline(OwinOptions options, Dictionary<string, object> capabilities)
    {
        IReadOnlyList<Assembly> searched = options.AppPath is { } appPath
            ? [AppAssemblyLoader.Load(appPath)]
            : Assembly.GetEntryAssembly() is { } entry ? [entry] : [];
        var (configure, name) = StartupLoader.Resolve(options.Startup, searched);

        var builder = new AppBuilder();
        var properties = builder.Properties;
        properties[OwinKeys.Version] = OwinKeys.OwinVersion;
        properties[OwinKeys.Capabilities] = capabilities;
        properties[OwinKeys.TraceOutput] = _host!.TraceOutput;
        properties[OwinKeys.OnAppDisposing] = _disposing.Token;
        properties[OwinKeys.Addresses] = AppInfo.ContainsKey("host_addresses") ? options.Addresses : HostAddresses.Of(Interfaces, options.PathBase);
        properties[OwinKeys.AppName] = name;
        Log.Info("Building the OWIN pipeline from {0}.", name);
        configure(builder);
        return builder.Build();
    }
}
