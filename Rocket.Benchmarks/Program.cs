using System.CommandLine;
using RocketOwin.Benchmarks.Commands;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks;

/// <summary>
/// The benchmark driver: side-by-side load runs against Kestrel (plaintext, idle), the Rocket server
/// those runs start (serve-rocket), and the BenchmarkDotNet micro-benchmarks (micro). See README.md.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Last line of defence: whatever happens, the children we started do not outlive us.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.StopAll();

        var root = new RootCommand("Rocket.Owin benchmarks: side-by-side runs against Kestrel, and micro-benchmarks.")
        {
            PlaintextCommand.Create(),
            IdleCommand.Create(),
            MicroCommand.Create(),
            ServeRocketCommand.Create(),
            StaticCommand.Create(),
            ServeStaticCommand.Create(),
            ProxyCommand.Create(),
            SoakCommand.Create(),
            WebSocketCommand.Create(),
            WebSocketLoadCommand.Create(),
            RollingRestartCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.CommandResult.Command.Name is "serve-rocket" or "micro" or "serve-static" or "websocket-load")
        {
            // Rocket (and BenchmarkDotNet) handle Ctrl-C themselves; no child processes to clean up.
            return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
        }

        using var interruption = new Interruption();
        try
        {
            var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
            return await parse.InvokeAsync(configuration, interruption.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interruption.Token.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted.");
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or InvalidDataException)
        {
            // Expected failures (a tool missing, a server not starting, wrk failing): the message says it all.
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        finally
        {
            ChildProcess.StopAll();
        }
    }
}
