using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RocketOwin.Host;

/// <summary>Starts the server from settings, prints where it listens, and stops it cleanly on Ctrl-C, SIGTERM or SIGHUP.</summary>
internal static class ServerRunner
{
    /// <exception cref="HostException">The settings are invalid (no inner exception: a usage error) or the server failed to start (with the cause as inner exception).</exception>
    public static int Run(HostSettings settings, string plugins, TextWriter output)
    {
        IReadOnlyList<ListenInterface> interfaces;
        try
        {
            interfaces = settings.ToInterfaces();
        }
        catch (FormatException e)
        {
            throw new HostException("--" + e.Message);
        }

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
                handleSignals: false)
            {
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
            }))
            .ToList();
        try
        {
            foreach (var (endPoint, i) in server.BoundEndPoints.Zip(interfaces))
            {
                var scheme = i.IsSecure ? "https" : "http";
                var host = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
                output.WriteLine($"Listening on {scheme}://{host}:{endPoint.Port} (method {settings.Method}). Ctrl-C stops.");
            }

            stop.Wait();
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

    private static string Describe(Exception e)
        => RocketCommand.OneLine(e is ArgumentException { ParamName: not null } a ? a.Message.Replace($" (Parameter '{a.ParamName}')", string.Empty, StringComparison.Ordinal) : e.Message);
}
