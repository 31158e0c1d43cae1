using System.Globalization;
using System.Net.Sockets;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>Starts the processes of the <c>proxy</c> runs, each pinned to the server core: the upstream, nginx, Rocket's proxy.</summary>
internal static class ProxyProcesses
{
    private const string Template = "bench/nginx/proxy.conf";

    public static ChildProcess StartUpstream(int port) => StartSelf(["--role", "upstream", "--port", Text(port)]);

    /// <summary>Rocket in front of the upstream: <paramref name="role"/> <c>proxy</c> (the proxy method) or <c>floor</c> (<see cref="RawSocketFloorWorker"/>).</summary>
    public static ChildProcess StartRocketProxy(int port, int upstreamPort, string role = "proxy")
        => StartSelf(["--role", role, "--port", Text(port), "--upstream", $"http://127.0.0.1:{Text(upstreamPort)}"]);

    /// <summary>nginx with bench/nginx/proxy.conf filled in, its prefix (pid, logs, temp files) under bench/out/.</summary>
    public static ChildProcess StartNginx(int port, int upstreamPort)
    {
        var root = RepositoryRoot();
        var prefix = Path.Combine(root, "bench", "out", $"nginx-proxy-{Text(port)}");
        Directory.CreateDirectory(prefix);
        var config = File.ReadAllText(Path.Combine(root, Template))
            .Replace("{{PREFIX}}", prefix, StringComparison.Ordinal)
            .Replace("{{PORT}}", Text(port), StringComparison.Ordinal)
            .Replace("{{UPSTREAM_PORT}}", Text(upstreamPort), StringComparison.Ordinal);
        var path = Path.Combine(prefix, "nginx.conf");
        File.WriteAllText(path, config);
        var command = Pinning.Wrap(Pinning.ServerCore, "nginx", ["-c", path, "-p", prefix + "/"]);
        return ChildProcess.Start(command[0], command.Skip(1).ToArray());
    }

    /// <summary>Polls GET / until it answers 200.</summary>
    public static async Task WaitReadyAsync(string name, int port, ChildProcess child, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (child.HasExited)
            {
                throw new InvalidOperationException($"{name} exited during start-up: {child.CommandLine}\n{child.Output}");
            }

            try
            {
                var response = await RawHttp.GetAsync(port, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                if (response.Status == 200)
                {
                    return;
                }

                last = new InvalidDataException($"status {response.Status}");
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                last = e;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{name} not answering on port {port} ({last?.Message}): {child.CommandLine}\n{child.Output}");
    }

    private static ChildProcess StartSelf(IReadOnlyList<string> serveArguments)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" };
        var command = Pinning.Wrap(Pinning.ServerCore, DotnetHost(), [typeof(ProxyProcesses).Assembly.Location, "proxy", "serve", .. serveArguments]);
        return ChildProcess.Start(command[0], command.Skip(1).ToArray(), environment);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Template)))
            {
                return dir.FullName;
            }
        }

        throw new FileNotFoundException($"{Template} not found above {AppContext.BaseDirectory}: run from the repository's build output.");
    }

    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return root is not null && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet") : "dotnet";
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
