using System.Globalization;
using System.Net.Sockets;

namespace RocketOwin.Host;

/// <summary>
/// systemd's socket activation (sd_listen_fds(3)): the service manager holds the listening sockets and passes them as
/// file descriptors 3, 4, ... with <c>LISTEN_PID</c> (this process), <c>LISTEN_FDS</c> (how many) and optionally
/// <c>LISTEN_FDNAMES</c>. Serving from them means a restart or a binary upgrade never closes the port: connections
/// made meanwhile wait in the socket's queue for the next process.
/// </summary>
internal static class SocketActivation
{
    private const int FirstDescriptor = 3;

    /// <summary>The inherited listening sockets (none when the variables are absent or meant for another process).</summary>
    /// <exception cref="HostException">LISTEN_FDS is malformed or a descriptor is not a listening TCP socket; the message names it.</exception>
    public static IReadOnlyList<ListenInterface> Take()
    {
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (string.IsNullOrEmpty(count) || !OperatingSystem.IsLinux())
        {
            return [];
        }

        // sd_listen_fds: the variables may have been inherited from a parent they were meant for.
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var forPid) || forPid != Environment.ProcessId)
        {
            return [];
        }

        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 1024)
        {
            throw new HostException($"LISTEN_FDS '{count}': expected the number of inherited sockets (1 or more).");
        }

        var names = (Environment.GetEnvironmentVariable("LISTEN_FDNAMES") ?? string.Empty).Split(':');

        // Unset, as sd_listen_fds(unset_environment=1) does, so processes we start never take these descriptors for theirs.
        foreach (var variable in new[] { "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES" })
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        var interfaces = new List<ListenInterface>();
        for (var i = 0; i < n; i++)
        {
            var fd = FirstDescriptor + i;
            var name = i < names.Length && names[i].Length > 0 ? $" ({names[i]})" : string.Empty;
            try
            {
                var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
                interfaces.Add(ListenInterface.FromListeningSocket(socket));
            }
            catch (Exception e) when (e is SocketException or ArgumentException or IOException)
            {
                throw new HostException($"LISTEN_FDS: descriptor {fd}{name} is not a listening TCP socket ({e.Message}).");
            }
        }

        return interfaces;
    }

    /// <summary>
    /// The interfaces to serve: the inherited sockets (an inherited socket whose address and port a <c>--bind</c> names
    /// takes that entry's key and certificate, for HTTPS), then every other <c>--bind</c>, bound as usual.
    /// </summary>
    public static IReadOnlyList<ListenInterface> Merge(IReadOnlyList<ListenInterface> inherited, IReadOnlyList<ListenInterface> bound, bool bindGiven)
    {
        if (inherited.Count == 0)
        {
            return bound;
        }

        var result = new List<ListenInterface>();
        var used = new HashSet<ListenInterface>();
        foreach (var socket in inherited)
        {
            var match = bound.FirstOrDefault(b => b.Port == socket.Port && b.IPAddress.Equals(socket.IPAddress));
            if (match is not null)
            {
                used.Add(match);
            }

            result.Add(match is { IsSecure: true }
                ? ListenInterface.FromListeningSocket(socket.ListeningSocket!, match.KeyFile, match.CertificateFile)
                : socket);
        }

        if (bindGiven)
        {
            result.AddRange(bound.Where(b => !used.Contains(b)));
        }

        return result;
    }
}
