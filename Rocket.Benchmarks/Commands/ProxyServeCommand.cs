using System.CommandLine;
using RocketOwin.Internal;
using RocketOwin.Methods.Proxy;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>proxy serve</c>: one of the processes the <c>proxy</c> runs start — the shared upstream
/// (<see cref="ProxyUpstreamWorker"/>), Rocket's proxy method in front of it, or the raw-socket floor
/// (<see cref="RawSocketFloorWorker"/>, <c>proxy --floor</c>). Blocks until SIGTERM / Ctrl-C.
/// </summary>
internal static class ProxyServeCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "upstream, proxy or floor.", Required = true };
        role.AcceptOnlyFromAmong("upstream", "proxy", "floor");
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var upstream = new Option<string?>("--upstream") { Description = "The proxy's appInfo upstream (roles proxy and floor)." };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var splice = new Option<bool>("--splice") { Description = "Role proxy: appInfo splice true (large bodies spliced, not copied), to measure the two paths side by side." };
        var command = new Command("serve", "Run the benchmark's upstream or Rocket's proxy on 127.0.0.1 (blocks until SIGTERM / Ctrl-C).")
        {
            role, port, upstream, minThreads, splice,
        };
        command.SetAction((parse, cancellationToken) => ServeAsync(
            parse.GetValue(role)!, parse.GetValue(port), parse.GetValue(upstream), parse.GetValue(minThreads), parse.GetValue(splice), cancellationToken));
        return command;
    }

    private static Task<int> ServeAsync(string role, int port, string? upstream, int minThreads, bool splice, CancellationToken cancellationToken)
    {
        if (port is < 1 or > 65535 || minThreads < 1 || (role != "upstream" && string.IsNullOrEmpty(upstream)))
        {
            Console.Error.WriteLine("--port must be 1-65535, --min-threads at least 1, and roles proxy and floor need --upstream.");
            return Task.FromResult(2);
        }

        ServeRocketCommand.ConfigureQuietLogging();
        var method = "bench-" + role;
        Func<Worker> factory = role switch
        {
            "proxy" => () => new ProxyWorker(),
            "floor" => () => new RawSocketFloorWorker(),
            _ => () => new ProxyUpstreamWorker(),
        };
        Rocket.RegisterMethod(method, factory);
        var appInfo = new AppInfo();
        if (upstream is not null)
        {
            appInfo["upstream"] = upstream;
        }

        if (splice && role == "proxy")
        {
            appInfo["splice"] = true;
        }

        // No body size limit: the runs push 1 GiB uploads through both processes (nginx: client_max_body_size 0).
        var limits = new ServerLimits { MaxRequestBodySize = null };
        var server = new Rocket(("127.0.0.1", port), method, appInfo, minThreads: minThreads, handleSignals: false, limits: limits);
        server.Start(background: true);
        try
        {
            // This (the main) thread runs the server's periodic work while it waits, as the rocket command's does.
            using var wake = cancellationToken.Register(MonitorThread.Wake);
            MonitorThread.RunUntil(() => cancellationToken.IsCancellationRequested);
        }
        finally
        {
            server.Stop();
        }

        return Task.FromResult(0);
    }
}
