using System.CommandLine;
using System.Globalization;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>soak</c>: constant load for minutes, the server's RSS and thread count sampled all along; after the warm-up both
/// must stay flat (goal: within 2 MiB and 2 threads). Targets: the owin method serving the plaintext AppFunc, and the
/// proxy method in front of the benchmark upstream. A leak or a pool that keeps growing shows here, not in a 10 s run.
/// </summary>
internal static class SoakCommand
{
    private const double FlatRssKiB = 2 * 1024;
    private const int FlatThreads = 2;

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds of load per target (the issue's soak: 240).", DefaultValueFactory = _ => 240 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds at the start of each target's load left out of the flatness check.", DefaultValueFactory = _ => 30 };
        var interval = new Option<int>("--interval") { Description = "Seconds between samples of RSS and threads.", DefaultValueFactory = _ => 5 };
        var connections = new Option<int>("--connections") { Description = "wrk -c.", DefaultValueFactory = _ => 64 };
        var targets = new Option<string[]>("--targets") { Description = "Which to soak: owin, proxy.", DefaultValueFactory = _ => ["owin", "proxy"], AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file (bench/out/ is git-ignored)." };
        var command = new Command("soak", "Constant load for minutes on the owin and proxy methods; RSS and threads must stay flat after the warm-up.")
        {
            duration, warmup, interval, connections, targets, output,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(duration), parse.GetValue(warmup), parse.GetValue(interval), parse.GetValue(connections),
            parse.GetValue(targets)!, parse.GetValue(output), cancellationToken));
        return command;
    }

    private sealed record Sample(double Seconds, long RssKiB, int Threads);

    private sealed record Soak(string Target, string CommandLine, List<Sample> Samples, WrkResult Load);

    private static async Task<int> RunAsync(int duration, int warmup, int interval, int connections, string[] targets, FileInfo? output, CancellationToken cancellationToken)
    {
        if (duration < 1 || warmup < 0 || warmup >= duration || interval < 1 || connections < 1)
        {
            Console.Error.WriteLine("--duration, --interval and --connections must be positive; --warmup not negative and less than --duration.");
            return 2;
        }

        if (targets.FirstOrDefault(t => t is not ("owin" or "proxy")) is { } unknown)
        {
            Console.Error.WriteLine($"--targets: unknown target '{unknown}' (owin, proxy).");
            return 2;
        }

        Pinning.RequireTools("wrk", "taskset", "nice");
        var soaks = new List<Soak>();
        foreach (var target in targets)
        {
            soaks.Add(await SoakAsync(target, duration, interval, connections, cancellationToken).ConfigureAwait(false));
        }

        await Report.PublishAsync(await ReportAsync(soaks, duration, warmup, interval, connections, cancellationToken).ConfigureAwait(false), output, cancellationToken).ConfigureAwait(false);
        return soaks.All(s => IsFlat(After(s, warmup))) ? 0 : 3;
    }

    private static async Task<Soak> SoakAsync(string target, int duration, int interval, int connections, CancellationToken cancellationToken)
    {
        var ports = FreePorts.Take(2);
        var children = new List<ChildProcess>();
        try
        {
            ChildProcess server;
            string commandLine;
            if (target == "owin")
            {
                var owin = ServerProcess.Start(ServerKind.Owin, "Rocket owin", ports[0], rocketMinThreads: 4);
                children.Add(owin.Child);
                await owin.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
                (server, commandLine) = (owin.Child, owin.CommandLine);
            }
            else
            {
                var upstream = ProxyProcesses.StartUpstream(ports[1]);
                children.Add(upstream);
                await ProxyProcesses.WaitReadyAsync("upstream", ports[1], upstream, cancellationToken).ConfigureAwait(false);
                server = ProxyProcesses.StartRocketProxy(ports[0], ports[1]);
                children.Add(server);
                await ProxyProcesses.WaitReadyAsync("Rocket proxy", ports[0], server, cancellationToken).ConfigureAwait(false);
                commandLine = server.CommandLine;
            }

            Log.Progress($"soak {target} (pid {server.Id}): wrk -c{connections} -d{duration}s, sampling every {interval} s");
            var samples = new List<Sample>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var load = Wrk.RunAsync($"http://127.0.0.1:{ports[0]}/", connections, duration, cancellationToken);
            while (!load.IsCompleted)
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"{target} exited during the soak:\n{server.Output}");
                }

                var sample = new Sample(clock.Elapsed.TotalSeconds, ProcStats.RssKiB(server.Id), ProcStats.Threads(server.Id));
                samples.Add(sample);
                Log.Progress($"{target} {sample.Seconds,5:0} s: RSS {Format.MiB(sample.RssKiB)}, {sample.Threads} threads");
                await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(interval), cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            var result = await load.ConfigureAwait(false);
            samples.Add(new Sample(clock.Elapsed.TotalSeconds, ProcStats.RssKiB(server.Id), ProcStats.Threads(server.Id)));
            Log.Progress($"{target}: {Format.Rate(result.RequestsPerSecond)} req/s" + (result.Errors.Length > 0 ? $" ({result.Errors})" : ""));
            return new Soak(target, commandLine, samples, result);
        }
        finally
        {
            foreach (var child in Enumerable.Reverse(children))
            {
                child.Dispose();
            }
        }
    }

    private static Sample[] After(Soak soak, int warmup) => [.. soak.Samples.Where(s => s.Seconds >= warmup)];

    private static bool IsFlat(Sample[] samples)
        => samples.Length > 0 && Range(samples, s => s.RssKiB) <= FlatRssKiB && Range(samples, s => s.Threads) <= FlatThreads;

    private static double Range(Sample[] samples, Func<Sample, double> value) => samples.Length == 0 ? 0 : samples.Max(value) - samples.Min(value);

    private static async Task<string> ReportAsync(List<Soak> soaks, int duration, int warmup, int interval, int connections, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(await RunInfo.HeaderAsync("Soak: RSS and threads under constant load", cancellationToken).ConfigureAwait(false));
        text.AppendLine(CultureInfo.InvariantCulture, $"- Load: `{Shell.Join(Wrk.Command("http://127.0.0.1:PORT/", connections, duration))}` per target; samples every {interval} s; the first {warmup} s are warm-up")
            .AppendLine(CultureInfo.InvariantCulture, $"- Goal: after the warm-up, RSS within {Format.MiB(FlatRssKiB)} and threads within {FlatThreads} (max - min of the samples)");
        foreach (var soak in soaks)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {soak.Target}: `{soak.CommandLine}`");
        }

        var table = new MarkdownTable("target", ">req/s", ">RSS after warm-up (min..max)", ">RSS range", ">threads (min..max)", ">threads range", "flat", "errors");
        foreach (var soak in soaks)
        {
            var after = After(soak, warmup);
            table.Add(soak.Target, Format.Rate(soak.Load.RequestsPerSecond),
                $"{Format.MiB(after.Min(s => s.RssKiB))}..{Format.MiB(after.Max(s => s.RssKiB))}", Format.MiB(Range(after, s => s.RssKiB)),
                $"{after.Min(s => s.Threads)}..{after.Max(s => s.Threads)}", Format.Number(Range(after, s => s.Threads)),
                IsFlat(after) ? "yes" : "**no**", soak.Load.Errors);
        }

        text.AppendLine().Append(table).AppendLine();
        var samples = new MarkdownTable("target", ">s", ">RSS", ">threads");
        foreach (var soak in soaks)
        {
            foreach (var s in soak.Samples)
            {
                samples.Add(soak.Target, Format.Number(s.Seconds, "0"), Format.MiB(s.RssKiB), s.Threads.ToString(CultureInfo.InvariantCulture));
            }
        }

        text.AppendLine("Every sample:").AppendLine().Append(samples).AppendLine();
        return text.ToString();
    }
}
