using System.CommandLine;
using NLog;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>serve-rocket</c>: Rocket with the <see cref="PlaintextWorker"/> on 127.0.0.1:PORT, blocking until
/// SIGTERM / Ctrl-C. The driver starts it as a child process; it can be run by hand too.
/// </summary>
internal static class ServeRocketCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads (worker threads kept).", DefaultValueFactory = _ => 4 };
        var app = new Option<string>("--app")
        {
            Description = "plaintext (a bare Worker), owin (an OWIN AppFunc) or katana (a Katana Startup's app.Run), all sending the same bytes; websocket (an OWIN WebSocket echo, plaintext otherwise).",
            DefaultValueFactory = _ => "plaintext",
        };
        app.AcceptOnlyFromAmong("plaintext", "owin", "katana", "websocket");
        var command = new Command("serve-rocket", "Run Rocket with the plaintext worker on 127.0.0.1 (blocks until SIGTERM / Ctrl-C).")
        {
            port, minThreads, app,
        };
        command.SetAction(parse => Serve(parse.GetValue(port), parse.GetValue(minThreads), parse.GetValue(app)!));
        return command;
    }

    /// <summary>Console output for Warn and above only: per-request log lines would distort the runs.</summary>
    public static void ConfigureQuietLogging() =>
        LogManager.Setup().LoadConfiguration(builder => builder.ForLogger().FilterMinLevel(LogLevel.Warn).WriteToConsole());

    private static int Serve(int port, int minThreads, string app)
    {
        if (port is < 1 or > 65535 || minThreads < 1)
        {
            Console.Error.WriteLine("--port must be 1-65535 and --min-threads at least 1.");
            return 2;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") != "1")
        {
            // The driver sets it; DESIGN.md measured 42-75 threads without it instead of ~18.
            Console.Error.WriteLine("note: DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS is not 1; the benchmark driver sets it.");
        }
        ConfigureQuietLogging();
        PlaintextWorker.Register();
        WebSocketEchoApp.RegisterOwinMethod();
        var server = app switch
        {
            "plaintext" => new Rocket(("127.0.0.1", port), PlaintextWorker.Method, new AppInfo(), minThreads: minThreads),
            "websocket" => new Rocket(("127.0.0.1", port), "owin", WebSocketEchoApp.AppInfo, minThreads: minThreads),
            _ => new Rocket(("127.0.0.1", port), "owin", OwinPlaintextApps.For(app), minThreads: minThreads),
        };
        server.Start();
        return 0;
    }
}
