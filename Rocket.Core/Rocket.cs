using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using RocketOwin.Internal;

namespace RocketOwin;

/// <summary>
/// The server, as in Rocket: <c>new Rocket(("127.0.0.1", 8080), "owin", appInfo).Start()</c>.
/// Listens on one or more interfaces and serves every request with the worker of the named method.
/// </summary>
/// <remarks>
/// <see cref="Start"/> and <see cref="Stop"/> may be called from any thread; <see cref="Stop"/> is safe to
/// call twice. A Rocket instance runs once: start a new one after stopping.
/// </remarks>
public sealed class Rocket : IDisposable
{
    /// <summary>SIGUSR1's number on Linux: PosixSignal names no value for it, and PosixSignalRegistration takes raw numbers.</summary>
    internal const PosixSignal SigUsr1 = (PosixSignal)10;

    private readonly List<ListenInterface> _interfaces;
    private readonly int _minThreads;
    private readonly int? _maxThreads;
    private readonly int? _queueSize;
    private readonly TimeSpan _timeout;
    private readonly bool _handleSignals;
    private readonly ManualResetEventSlim _stopped = new(false);
    private readonly Lock _lifecycle = new();
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly StatusWorker? _statusWorker;
    private ServerCore? _core;
    private Reloader? _reloader;
    private readonly Lock _reloading = new();
    private Rocket? _status;
    private int _state;

    /// <summary>Creates a server on one interface. See the list overload for the parameters.</summary>
    public Rocket(ListenInterface interfaces, string method, AppInfo? appInfo = null, int minThreads = 10, int? maxThreads = null, int? queueSize = null, int timeout = 600, bool handleSignals = true, ServerLimits? limits = null)
        : this([interfaces ?? throw new ArgumentNullException(nameof(interfaces))], method, appInfo, minThreads, maxThreads, queueSize, timeout, handleSignals, limits)
    {
    }

    /// <summary>Creates a server (Rocket's constructor). Nothing listens until <see cref="Start"/>.</summary>
    /// <param name="interfaces">Where to listen: <c>[("0.0.0.0", 80), ("0.0.0.0", 443, "key.pem", "cert.pem")]</c>.</param>
    /// <param name="method">The method name, e.g. <c>owin</c>, <c>static</c>, <c>proxy</c> (case-insensitive); resolved at Start.</param>
    /// <param name="appInfo">The method's settings.</param>
    /// <param name="minThreads">Worker threads always running; at least 1. Default 10 (Rocket's).</param>
    /// <param name="maxThreads">Most worker threads, at least <paramref name="minThreads"/>; 0 for no limit (Rocket's meaning). Default null:
    /// derived from the machine, 64 per processor, capped at half the pids cgroup's limit (systemd's TasksMax, a container's
    /// pids limit) when there is one, never below <paramref name="minThreads"/>.</param>
    /// <param name="queueSize">The listen backlog; null for the operating system's maximum.</param>
    /// <param name="timeout">Seconds an idle keep-alive connection may wait for its next request. Default 600 (Rocket's).</param>
    /// <param name="handleSignals">Stop on SIGTERM, SIGHUP and Ctrl-C, and <see cref="Reload"/> on SIGUSR1 (Linux). Default true.</param>
    /// <param name="limits">Size limits and timeouts; null for the defaults.</param>
    /// <exception cref="ArgumentException">A parameter is out of range; the message names it and its value.</exception>
    public Rocket(IEnumerable<ListenInterface> interfaces, string method, AppInfo? appInfo = null, int minThreads = 10, int? maxThreads = null, int? queueSize = null, int timeout = 600, bool handleSignals = true, ServerLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        _interfaces = interfaces.ToList();
        if (_interfaces.Count == 0)
        {
            throw new ArgumentException("interfaces: at least one interface is needed.", nameof(interfaces));
        }

        if (string.IsNullOrWhiteSpace(method))
        {
            throw new ArgumentException("method: a method name is needed (e.g. \"owin\", \"static\", \"proxy\").", nameof(method));
        }

        if (minThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minThreads), minThreads, $"minThreads must be at least 1 (got {minThreads}).");
        }

        if (maxThreads < 0 || (maxThreads > 0 && maxThreads < minThreads))
        {
            throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, $"maxThreads must be 0 (no limit) or at least minThreads ({minThreads}); got maxThreads {maxThreads}.");
        }

        if (queueSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(queueSize), queueSize, $"queueSize must be at least 1, or null for the OS maximum (got {queueSize}).");
        }

        if (timeout < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"timeout must be 0 or more seconds (got {timeout}).");
        }

        Method = method;
        AppInfo = appInfo ?? new AppInfo();
        Limits = limits ?? new ServerLimits();
        _minThreads = minThreads;
        _maxThreads = maxThreads;
        _queueSize = queueSize;
        _timeout = TimeSpan.FromSeconds(timeout);
        _handleSignals = handleSignals;
    }

    /// <summary>The status page's own small server: its worker is given, not looked up, and it neither counts nor logs its requests.</summary>
    private Rocket(ListenInterface statusInterface, StatusWorker worker)
        : this(statusInterface, "status", null, minThreads: 1, maxThreads: 4, queueSize: 64, timeout: 30, handleSignals: false)
    {
        _statusWorker = worker;
    }

    /// <summary>The method name this server serves (the one given to the last successful <see cref="Reload"/>, if any).</summary>
    public string Method { get; private set; }

    /// <summary>The method's settings (those given to the last successful <see cref="Reload"/>, if any).</summary>
    public AppInfo AppInfo { get; private set; }

    /// <summary>1 for the worker created at Start; one more for each successful <see cref="Reload"/>.</summary>
    public int Generation => _reloader?.Current.Number ?? 0;

    /// <summary>Limits and timeouts (change before Start).</summary>
    public ServerLimits Limits { get; }

    /// <summary>Ask TLS clients for a certificate (optional for them; see <see cref="Connection.ClientCertificate"/>). Default false.</summary>
    public bool RequestClientCertificate { get; set; }

    /// <summary>The addresses actually listened on, in interface order (ports chosen by the OS filled in). Empty before Start.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndPoints => _core?.Listeners.Select(l => l.BoundEndPoint!).ToList() ?? [];

    /// <summary>True between a successful Start and Stop (false from the moment Stop has closed the listeners and answers say Connection: close).</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    /// <summary>The most worker threads the pool may have (0: no limit): maxThreads as given, or the default derived from the machine.</summary>
    public int MaxThreads => _maxThreads ?? ProcessLimits.DefaultMaxThreads(_minThreads, Environment.ProcessorCount, ProcessLimits.PidsLimit());

    /// <summary>Worker threads alive now.</summary>
    public int ThreadCount => _core?.Pool.ThreadCount ?? 0;

    /// <summary>Request exchanges the running server keeps for reuse (0 when stopped); for tests.</summary>
    internal int PooledExchangeCount => _core?.PooledExchangeCount ?? 0;

    /// <summary>Calls <paramref name="visit"/> for each open connection of the running server; for tests.</summary>
    internal void ForEachConnection(Action<ConnectionTransport> visit) => _core?.Table.ForEach(visit, static (c, v) => v(c));

    /// <summary>Worker threads waiting for work now.</summary>
    public int IdleThreadCount => _core?.Pool.IdleCount ?? 0;

    /// <summary>Worker threads serving a connection now.</summary>
    public int BusyThreadCount => _core?.Pool.BusyCount ?? 0;

    /// <summary>Open client connections.</summary>
    public int ConnectionCount => _core?.Table.Count ?? 0;

    /// <summary>Connections waiting in the active queue for a worker thread.</summary>
    public int QueuedConnectionCount => _core?.ActiveQueue.Count ?? 0;

    /// <summary>
    /// Where to serve the operators' status page, on a listener of its own (a few threads apart from the main pool, so
    /// it answers while the server is saturated): <c>/</c> an HTML page (threads, queue, connections, requests/s, bytes,
    /// status classes, rejections by reason, uptime, method and version; no script), <c>/json</c> the same as JSON,
    /// <c>/metrics</c> the Prometheus text format. Null (the default) for none; set before Start. Bind it to an address
    /// only operators reach (127.0.0.1, a management network): it has no authentication.
    /// </summary>
    /// <remarks>The numbers come from the <c>Rocket</c> <see cref="System.Diagnostics.Metrics.Meter"/>, which every server
    /// publishes whether or not the page is on: <c>dotnet-counters monitor -n app --counters Rocket</c>, or OpenTelemetry's
    /// <c>AddMeter("Rocket")</c>.</remarks>
    public ListenInterface? StatusInterface { get; set; }

    /// <summary>Where the status page listens (the port chosen by the OS filled in); null when there is none or before Start.</summary>
    public IPEndPoint? StatusEndPoint => _status?.BoundEndPoints is [var first, ..] ? first : null;

    /// <summary>
    /// The plugins folder searched for methods not registered in code, loaded in the process or among the application's dependencies:
    /// <c>&lt;folder&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>. Defaults to <see cref="DefaultPluginsDirectory"/>; change before Start.
    /// </summary>
    public string PluginsDirectory { get; set; } = DefaultPluginsDirectory;

    /// <summary>
    /// The environment variable <c>ROCKET_PLUGINS</c> when set, else <c>plugins/</c> next to the host executable
    /// (<see cref="AppContext.BaseDirectory"/>).
    /// </summary>
    public static string DefaultPluginsDirectory
        => Environment.GetEnvironmentVariable("ROCKET_PLUGINS") is { Length: > 0 } fromEnvironment
            ? Path.GetFullPath(fromEnvironment)
            : Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>
    /// Every method that could be served, with where it comes from: registered in code, declared by an assembly
    /// loaded in the process or by one the application depends on (its .deps.json), or found in <paramref name="pluginsDirectory"/>. For a plugin that cannot be used,
    /// <c>Problem</c> says why (its <c>Name</c> is <c>?</c> when the plugin could not even be read).
    /// </summary>
    /// <param name="pluginsDirectory">The plugins folder to scan; null for <see cref="DefaultPluginsDirectory"/>.</param>
    public static IReadOnlyList<(string Name, string Source, string? Problem)> ListMethods(string? pluginsDirectory = null)
        => MethodRegistry.List(pluginsDirectory ?? DefaultPluginsDirectory);

    /// <summary>Registers a method in code (the plugin folder is searched after these).</summary>
    public static void RegisterMethod(string name, Func<Worker> factory) => MethodRegistry.Register(name, factory);

    /// <summary>Removes a method registered with <see cref="RegisterMethod"/>.</summary>
    public static bool UnregisterMethod(string name) => MethodRegistry.Unregister(name);

    /// <summary>
    /// Starts serving. With <paramref name="background"/> false (Rocket's default) this blocks until Ctrl-C,
    /// SIGTERM, SIGHUP (when handling signals) or <see cref="Stop"/>; with true it returns once listening.
    /// </summary>
    /// <remarks>
    /// While it blocks, the calling thread runs the process's periodic server work (idle timeouts, pool growth, the
    /// status sampler) in place of a dedicated "Rocket monitor" thread.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The method is unknown, a port is in use, a certificate cannot be loaded, the environment variable ROCKET_EPOLL is neither 0 nor 1, or the server was already started; nothing is left listening.</exception>
    /// <exception cref="ArgumentException">The method's worker refused its appInfo (an <see cref="UnknownAppInfoKeyException"/> for a key it does not read, when the worker declares <see cref="Worker.AppInfoKeys"/>).</exception>
    public void Start(bool background = false)
    {
        lock (_lifecycle)
        {
            if (_state != 0)
            {
                throw new InvalidOperationException("This Rocket has already been started; create a new one to start again.");
            }

            RocketLog.EnsureConfigured();
            EpollLoop.CheckSwitch();
            Worker worker = _statusWorker ?? MethodRegistry.Create(Method, PluginsDirectory);
            CheckAppInfoKeys(worker, Method, AppInfo);
            var core = new ServerCore(worker, Method, AppInfo, Limits, _minThreads, MaxThreads, _timeout == TimeSpan.Zero ? TimeSpan.FromDays(3650) : _timeout)
            {
                RequestClientCertificate = RequestClientCertificate,
            };
            core.Metrics = _statusWorker is null ? new ServerMetrics(core, MaxThreads) : null;
            worker.Attach(core);

            // Bound before Initialize so the worker sees the ports really bound (port 0 included); nothing is
            // accepted until Initialize has returned, and a failing Initialize releases the ports again (and is not
            // followed by Shutdown: it acquired nothing to release).
            try
            {
                if (StatusInterface is not null && core.Metrics is not null)
                {
                    _status = StartStatus(StatusInterface, core.Metrics);
                }

                foreach (var i in _interfaces)
                {
                    var listener = new Listener(core, i);
                    listener.Bind(_queueSize);
                    core.Listeners.Add(listener);
                }

                core.Interfaces = core.Listeners.Select(l => l.BoundInterface).ToList();
                worker.RunInitialize();
            }
            catch
            {
                foreach (var l in core.Listeners)
                {
                    l.Stop();
                }

                core.Monitor.Dispose();
                _status?.Stop();
                _status = null;
                core.Metrics?.Dispose();
                throw;
            }

            _reloader = new Reloader(core, PluginsDirectory, new WorkerGeneration(1, Method, worker, context: null));
            _core = core;
            core.Pool.Start();
            foreach (var l in core.Listeners)
            {
                l.Start();
            }

            if (_handleSignals)
            {
                foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP })
                {
                    _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
                }

                if (OperatingSystem.IsLinux())
                {
                    _signals.Add(PosixSignalRegistration.Create(SigUsr1, OnReloadSignal));
                }
            }

            _state = 1;
            if (_statusWorker is null)
            {
                RocketLog.Main.Info("Listening on {0} (method {1}, {2}..{3} threads).", string.Join(", ", core.Listeners), Method, _minThreads, MaxThreads == 0 ? "unlimited" : MaxThreads);
            }

            if (_status is not null)
            {
                RocketLog.Main.Info("Status page on {0} (/, /json, /metrics).", string.Join(", ", _status._core!.Listeners));
            }
        }

        if (!background)
        {
            // The waiting thread runs the monitor's periodic work meanwhile (one thread fewer), as Rocket's start() does.
            MonitorThread.RunUntil(() => _stopped.IsSet);
        }
    }

    /// <summary>
    /// Stops without losing a request: the listening sockets close first (connections already waiting in their queues
    /// are still served); requests in flight, and those already received behind them, are answered, the last on each
    /// connection with <c>Connection: close</c>; an idle connection that receives a request within
    /// <see cref="ServerLimits.ShutdownIdleGrace"/> is answered the same way, one that does not is closed cleanly (never
    /// reset). Whatever is left at <see cref="ServerLimits.ShutdownTimeout"/> is aborted; then the threads end. Safe to call twice.
    /// </summary>
    public void Stop()
    {
        lock (_lifecycle)
        {
            if (_state != 1)
            {
                return;
            }

            var core = _core!;
            foreach (var s in _signals)
            {
                s.Dispose();
            }

            _signals.Clear();
            if (_statusWorker is null)
            {
                RocketLog.Main.Info("Stopping: closing listeners, letting {0} request(s) in flight finish.", core.InFlight);
            }

            // Listeners first: while they close, connections are still reused, so few new ones race the close.
            foreach (var l in core.Listeners)
            {
                l.Stop();
            }

            core.BeginStopping();

            // Not running from here: nothing is accepted and every answer from now on says Connection: close.
            _state = 2;
            core.Drain();
            core.Pool.Stop(TimeSpan.FromSeconds(5));
            core.Monitor.Dispose();
            _reloader!.ShutdownAll(Limits.ShutdownTimeout);

            // The status page stays up through the drain, so operators can watch it.
            _status?.Stop();
            if (core.Metrics is not null)
            {
                core.Metrics.Dispose();
                RocketLog.Main.Info("Stopped.");
            }
        }

        _stopped.Set();
        MonitorThread.Wake();
    }

    /// <summary>Stops the server (see <see cref="Stop"/>).</summary>
    public void Dispose()
    {
        Stop();
        _stopped.Set();
        MonitorThread.Wake();
    }

    /// <summary>
    /// Live reload (Apache's graceful restart, SIGUSR1): creates a new worker for <paramref name="method"/> with
    /// <paramref name="appInfo"/> (both default to the current ones) and switches new requests to it. A plugin is read
    /// from disk again into a new collectible load context, and the owin method loads its <c>app</c> DLL into that
    /// context, so a new build is served. Requests in flight finish on the old worker; it is then shut down and its
    /// context unloaded. The listening sockets and open connections are kept.
    /// </summary>
    /// <remarks>
    /// Safe to call from any thread while running; reloads run one at a time. A reload that fails changes nothing:
    /// the old worker keeps serving, the failure is logged and thrown. A new plugin or app build must be a new file
    /// (another folder, or renamed over the old one): overwriting a loaded DLL in place can crash the old code still running.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Not running, or the method cannot be found, loaded or created; the message says why.</exception>
    /// <exception cref="ArgumentException">The new worker refused its appInfo (its Initialize threw); the message names the key.</exception>
    public void Reload(string? method = null, AppInfo? appInfo = null)
    {
        lock (_reloading)
        {
            var reloader = _reloader;
            if (!IsRunning || reloader is null)
            {
                throw new InvalidOperationException("Reload needs a running server (after Start, before Stop).");
            }

            method ??= Method;
            appInfo ??= AppInfo;
            var from = reloader.Current;
            try
            {
                var next = reloader.Reload(method, appInfo);
                Method = method;
                AppInfo = appInfo;
                RocketLog.Main.Info("Reloaded: {0} serves new requests; {1} finishes its requests in flight, then retires.", next, from);
            }
            catch (Exception e)
            {
                RocketLog.Errors.Error("Reload failed; {0} keeps serving: {1}", from, Unwrap(e).Message);
                throw;
            }
        }
    }

    private static Rocket StartStatus(ListenInterface statusInterface, ServerMetrics metrics)
    {
        var worker = new StatusWorker(metrics);
        var status = new Rocket(statusInterface, worker);
        try
        {
            status.Start(background: true);
            return status;
        }
        catch (InvalidOperationException e)
        {
            worker.Dispose();
            throw new InvalidOperationException("status: " + (e.Message.StartsWith("interfaces: ", StringComparison.Ordinal) ? e.Message["interfaces: ".Length..] : e.Message), e);
        }
    }

    /// <summary>Refuses appInfo keys the method does not declare (when it declares its keys), naming the closest declared one.</summary>
    /// <remarks>Called at Start and for every <see cref="Reload"/>, before the new worker's Initialize.</remarks>
    internal static void CheckAppInfoKeys(Worker worker, string method, AppInfo appInfo)
    {
        if (worker.AppInfoKeys is not { } known)
        {
            return;
        }

        foreach (var key in appInfo.Keys)
        {
            if (!known.Any(k => k.EndsWith('*') ? key.StartsWith(k[..^1], StringComparison.OrdinalIgnoreCase) && key.Length >= k.Length : string.Equals(k, key, StringComparison.OrdinalIgnoreCase)))
            {
                var keys = string.Join(", ", known.Order(StringComparer.Ordinal));
                throw new UnknownAppInfoKeyException(key, $"not a setting of method '{method}'{Spelling.DidYouMean(key, known)} (its settings: {keys})");
            }
        }
    }

    private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    private void OnReloadSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        RocketLog.Main.Info("Received SIGUSR1; reloading.");
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                try
                {
                    Reload();
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or TargetInvocationException)
                {
                    // Logged by Reload; the old worker keeps serving.
                }
            },
            null);
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Handle it ourselves: the process ends when Start returns, after a clean stop.
        context.Cancel = true;
        RocketLog.Main.Info("Received {0}; stopping.", context.Signal);
        ThreadPool.UnsafeQueueUserWorkItem(_ => Stop(), null);
    }
}
