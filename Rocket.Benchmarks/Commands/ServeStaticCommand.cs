using System.CommandLine;
using RocketOwin.Methods.Static;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>serve-static</c>: Rocket with the static method (Rocket.Methods.Static) serving --root on
/// 127.0.0.1:PORT, blocking until SIGTERM / Ctrl-C. The <c>static</c> run starts it as a child process.
/// </summary>
internal static class ServeStaticCommand
{
    public static Command Create()
    {
        var root = new Option<DirectoryInfo>("--root") { Description = "document_root: the directory served.", Required = true };
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1.", Required = true };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads (worker threads kept).", DefaultValueFactory = _ => 4 };
        var memoryMax = new Option<long?>("--memory-cache-max-file-size") { Description = "The static method's memory_cache_max_file_size (bytes; 0 = always sendfile)." };
        var command = new Command("serve-static", "Run Rocket with the static method on 127.0.0.1 (blocks until SIGTERM / Ctrl-C).")
        {
            root, port, minThreads, memoryMax,
        };
        command.SetAction(parse => Serve(parse.GetValue(root)!, parse.GetValue(port), parse.GetValue(minThreads), parse.GetValue(memoryMax)));
        return command;
    }

    private static int Serve(DirectoryInfo root, int port, int minThreads, long? memoryMax)
    {
        if (port is < 1 or > 65535 || minThreads < 1)
        {
            Console.Error.WriteLine("--port must be 1-65535 and --min-threads at least 1.");
            return 2;
        }

        ServeRocketCommand.ConfigureQuietLogging();
        const string method = "bench-static";
        Rocket.RegisterMethod(method, () => new StaticWorker());
        var appInfo = new AppInfo { ["document_root"] = root.FullName };
        if (memoryMax is { } max)
        {
            appInfo["memory_cache_max_file_size"] = max;
        }

        var server = new Rocket(("127.0.0.1", port), method, appInfo, minThreads: minThreads);
        server.Start();
        return 0;
    }
}
