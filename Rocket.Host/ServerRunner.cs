using System.Net.Sockets;
using System.Runtime.InteropServices;
using RocketOwin.Internal;

namespace RocketOwin.Host;

/// <summary>
/// Starts the server from settings, prints where it listens, stops it cleanly on Ctrl-C, SIGTERM or SIGHUP, and
/// reloads it on SIGUSR1 (the config file read again, the method and app loaded again; the sockets kept).
/// </summary>
internal static class ServerRunner
{
    /// <exception cref="HostException">The settings are invalid (no inner exception: a usage error) or the server failed to start (with the cause as inner exception).</exception>
    /// <param name="settings">What to serve.</param>
    /// <param name="plugins">The plugins folder.</param>
    /// <param name="output">Where the listening and reload lines go.</param>
    /// <param name="reread">Reads the settings again for a reload (the config file with the flags over it); null: the same settings.</param>
    public static int Run(HostSettings settings, string plugins, TextWriter output, Func<HostSettings>? reread = null)
    {
        IReadOnlyList<ListenInterface> interfaces;
        try
        {
            // Sockets passed by systemd (LISTEN_FDS) come first; they stay open across restarts and upgrades.
            interfaces = SocketActivation.Merge(SocketActivation.Take(), settings.ToInterfaces(), settings.Bind is { Count: > 0 });
        }
        catch (FormatException e)
        {
            throw new HostException("--" + e.Message);
        }

        ListenInterface? status = null;
        if (settings.Status is not null)
        {
            try
            {
                status = ListenInterface.Parse(settings.Status);
            }
            catch (FormatException e)
            {
                throw new HostException($"--status {settings.Status}: {StatusFormatProblem(e)}");
            }

            if (status.IsSecure)
            {
                throw new HostException($"--status {settings.Status}: the status page is plain HTTP; give ADDR:PORT only.");
            }
        }

        var limits = LimitSettings.Build(settings.Limits);
        HostLogging.Configure(settings);

        Rocket server;
        try
        {
            server = new Rocket(
                interfaces,
                settings.Method!,
                settings.ToAppInfo(),
                minThreads: settings.MinThreads ?? 10,
                maxThreads: settings.MaxThreads,
                queueSize: settings.QueueSize,
                timeout: settings.Timeout ?? 600,
                handleSignals: false,
                limits: limits)
            {
                StatusInterface = status,
                PluginsDirectory = plugins,
                RequestClientCertificate = settings.ClientCertificates ?? false,
            };
        }
        catch (ArgumentException e)
        {
            throw new HostException(Describe(e));
        }

        using var stop = new ManualResetEventSlim(false);
        try
        {
            server.Start(background: true);
        }
        catch (UnknownAppInfoKeyException e)
        {
            // Named as the user gave it: --set display_idx=true, rocket.json: set.display_idx.
            throw new HostException($"{Origin(settings, e.Key)}: {e.Problem}.");
        }
        catch (ArgumentException e) when (e.ParamName is { } key && e.Data[AppInfo.ExpectedDataKey] is string expected)
        {
            // A value the method refused (AppInfo.Invalid), named as the user gave it: --root /nope, --set max_ranges=0.
            throw new HostException($"{Origin(settings, key)}: expected {expected}.", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or SocketException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new HostException(Describe(e), e);
        }

        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
            .Select(signal => PosixSignalRegistration.Create(signal, context =>
            {
                // Stop ourselves instead of letting the runtime end the process mid-request.
                context.Cancel = true;
                stop.Set();
                MonitorThread.Wake();
            }))
            .ToList();
        if (OperatingSystem.IsLinux())
        {
            registrations.Add(PosixSignalRegistration.Create(SigUsr1, context =>
            {
                context.Cancel = true;
                ThreadPool.UnsafeQueueUserWorkItem(_ => Reload(server, settings, reread, output), null);
            }));
        }

        try
        {
            foreach (var (endPoint, i) in server.BoundEndPoints.Zip(interfaces))
            {
                var scheme = i.IsSecure ? "https" : "http";
                output.WriteLine($"Listening on {scheme}://{Format(endPoint)} (method {settings.Method}). Ctrl-C stops.");
            }

            if (server.StatusEndPoint is { } statusEndPoint)
            {
                output.WriteLine($"Status page on http://{Format(statusEndPoint)}/ (/json, /metrics).");
            }

            // This thread runs the server's periodic work while it waits (no "Rocket monitor" thread), as Start(background:
            // false) would; it still stops the server itself, so the last lines printed stay in order.
            MonitorThread.RunUntil(() => stop.IsSet);
            server.Stop();
            output.WriteLine("Stopped.");
            return 0;
        }
        finally
        {
            foreach (var r in registrations)
            {
                r.Dispose();
            }

            server.Dispose();
        }
    }

    /// <summary>SIGUSR1's number on Linux: PosixSignal names no value for it, and PosixSignalRegistration takes raw numbers.</summary>
    private const PosixSignal SigUsr1 = (PosixSignal)10;

    private static readonly Lock ReloadGate = new();

    /// <summary>SIGUSR1: settings read again and the server reloaded; on any failure the old worker keeps serving and the cause is printed.</summary>
    private static void Reload(Rocket server, HostSettings started, Func<HostSettings>? reread, TextWriter output)
    {
        lock (ReloadGate)
        {
            try
            {
                var settings = reread?.Invoke() ?? started;
                if (string.IsNullOrWhiteSpace(settings.Method))
                {
                    throw new HostException("no method given.");
                }

                foreach (var (name, then, now) in new (string, object?, object?)[]
                {
                    ("bind", string.Join(",", started.Bind ?? []), string.Join(",", settings.Bind ?? [])),
                    ("minThreads", started.MinThreads, settings.MinThreads), ("maxThreads", started.MaxThreads, settings.MaxThreads),
                    ("queueSize", started.QueueSize, settings.QueueSize), ("timeout", started.Timeout, settings.Timeout),
                    ("plugins", started.Plugins, settings.Plugins),
                })
                {
                    if (!Equals(then, now))
                    {
                        output.WriteLine($"Reload: '{name}' changed; a reload keeps the sockets and threads, so it takes effect at the next restart.");
                    }
                }

                server.Reload(settings.Method, settings.ToAppInfo());
                output.WriteLine($"Reloaded (generation {server.Generation}, method {server.Method}).");
            }
            catch (Exception e) when (e is HostException or InvalidOperationException or ArgumentException or IOException or System.Reflection.TargetInvocationException)
            {
                output.WriteLine($"Reload failed; still serving generation {server.Generation}: {RocketCommand.OneLine(Describe(e))}");
            }
        }
    }

    private static string Origin(HostSettings settings, string key)
        => settings.Origins.TryGetValue(key, out var given) ? given : $"appInfo key {key}";

    private static string Format(System.Net.IPEndPoint endPoint)
        => endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";

    // ListenInterface's messages speak of "bind": keep only what is wrong.
    private static string StatusFormatProblem(FormatException e)
    {
        if (e.InnerException is ArgumentException a)
        {
            var plain = LimitSettings.PlainMessage(a);
            return plain.StartsWith("interfaces: ", StringComparison.Ordinal) ? plain["interfaces: ".Length..] : plain;
        }

        var message = RocketCommand.OneLine(e.Message);
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? message[(colon + 2)..] : message;
    }

    private static string Describe(Exception e)
        => RocketCommand.OneLine(e is ArgumentException { ParamName: not null } a ? a.Message.Replace($" (Parameter '{a.ParamName}')", string.Empty, StringComparison.Ordinal) : e.Message);
}
