using System.CommandLine;
using RocketOwin.Methods.Proxy;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>proxy serve</c>: one of the processes the <c>proxy</c> runs start — the shared upstream
/// (<see cref="ProxyUpstreamWorker"/>) or Rocket's proxy method in front of it. Blocks until SIGTERM / Ctrl-C.
/// </summary>
internal static class ProxyServeCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "upstream or proxy.", Required = true };
        role.AcceptOnlyFromAmong("upstream", "proxy");
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var upstream = new Option<string?>("--upstream") { Description = "The proxy's appInfo upstream (role proxy)." };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var command = new Command("serve", "Run the benchmark's upstream or Rocket's proxy on 127.0.0.1 (blocks until SIGTERM / Ctrl-C).")
        {
            role, port, upstream, minThreads,
        };
        command.SetAction((parse, cancellationToken) => ServeAsync(
            parse.GetValue(role)!, parse.GetValue(port), parse.GetValue(upstream), parse.GetValue(minThreads), cancellationToken));
        return command;
    }

    private static async Task<int> ServeAsync(string role, int port, string? upstream, int minThreads, CancellationToken cancellationToken)
    {
        if (port is < 1 or > 65535 || minThreads < 1 || (role == "proxy" && string.IsNullOrEmpty(upstream)))
        {
            Console.Error.WriteLine("--port must be 1-65535, --min-threads at least 1, and role proxy needs --upstream.");
            return 2;
        }

        ServeRocketCommand.ConfigureQuietLogging();
        var method = "bench-" + role;
        Rocket.RegisterMethod(method, role == "proxy" ? () => new ProxyWorker() : () => new ProxyUpstreamWorker());
        var appInfo = new AppInfo();
        if (upstream is not null)
        {
            appInfo["upstream"] = upstream;
        }

        // No body size limit: the runs push 1 GiB uploads through both processes (nginx: client_max_body_size 0).
        var limits = new ServerLimits { MaxRequestBodySize = null };
        var server = new Rocket(("127.0.0.1", port), method, appInfo, minThreads: minThreads, handleSignals: false, limits: limits);
        server.Start(background: true);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            server.Stop();
        }

        return 0;
    }
}
