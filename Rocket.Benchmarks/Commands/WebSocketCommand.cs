using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>websocket</c>: echo round trips of small messages over N WebSockets, Rocket's owin method (OWIN WebSocket extension)
/// against Kestrel's <c>app.UseWebSockets()</c>, side by side (BENCHMARKING.md: servers on core 0, the load generator on
/// core 1, prewarm, alternating runs, medians); then each server alone with many idle open sockets: RSS per socket and threads.
/// </summary>
internal static partial class WebSocketCommand
{
    private const int LoadCore = 1;
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds per measured run.", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per server (median reported).", DefaultValueFactory = _ => 3 };
        var prewarm = new Option<int>("--prewarm") { Description = "Seconds of load per server before anything is measured.", DefaultValueFactory = _ => 15 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of load before each measured run.", DefaultValueFactory = _ => 3 };
        var connections = new Option<int>("--connections") { Description = "WebSockets exchanging messages.", DefaultValueFactory = _ => 64 };
        var size = new Option<int>("--message-size") { Description = "Bytes per message (text).", DefaultValueFactory = _ => 32 };
        var idle = new Option<int>("--idle") { Description = "Idle open WebSockets for the memory measurement, N (0: skip); then N more for the slope.", DefaultValueFactory = _ => 5000 };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file." };
        var command = new Command("websocket", "WebSocket echo round trips and idle sockets: Rocket owin vs Kestrel UseWebSockets.")
        {
            duration, runs, prewarm, warmup, connections, size, idle, minThreads, output,
        };
        command.SetAction((parse, cancellationToken) => ExecuteAsync(
            new Settings(parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(prewarm), parse.GetValue(warmup), parse.GetValue(connections),
                parse.GetValue(size), parse.GetValue(idle), parse.GetValue(minThreads)),
            parse.GetValue(output), cancellationToken));
        return command;
    }

    private sealed record Settings(int Duration, int Runs, int Prewarm, int Warmup, int Connections, int MessageSize, int Idle, int MinThreads);

    private sealed record Measurement(int Round, string Server, double Rate, double CpuMicroseconds, long RssKiB, int Threads, double OtherCpu, double Steal);

    private sealed record IdleResult(string Server, int Opened, long RssBeforeKiB, long RssAfterKiB, int ThreadsBefore, int ThreadsAfter, double FreshEchoMs, int OpenedMore, long RssDoubledKiB, string Load, long RssQuietKiB, double QuietSeconds)
    {
        public double KiBPerSocket => Opened > 0 ? (double)(RssAfterKiB - RssBeforeKiB) / Opened : double.NaN;

        /// <summary>The slope: RSS growth from N to 2N open sockets, per socket (the warm-up garbage and the first burst's heap growth mostly out of it).</summary>
        public double KiBPerSocketSlope => OpenedMore > 0 ? (double)(RssDoubledKiB - RssAfterKiB) / OpenedMore : double.NaN;

        /// <summary>RSS growth per socket with all 2N open, sampled again once Rocket's quiet period (ServerLimits.QuietCollectionDelay) has passed.</summary>
        public double KiBPerSocketAfterQuiet => Opened + OpenedMore > 0 ? (double)(RssQuietKiB - RssBeforeKiB) / (Opened + OpenedMore) : double.NaN;
    }

    private static async Task<int> ExecuteAsync(Settings settings, FileInfo? output, CancellationToken cancellationToken)
    {
        if (settings.Duration < 1 || settings.Runs < 1 || settings.Connections < 1 || settings.MessageSize is < 1 or > 4000 || settings.Idle < 0)
        {
            Console.Error.WriteLine("--duration, --runs, --connections must be positive, --message-size 1..4000, --idle not negative.");
            return 2;
        }

        Pinning.RequireTools("taskset", "nice");
        var kinds = new[] { (ServerKind.KestrelWebSocket, "Kestrel UseWebSockets"), (ServerKind.OwinWebSocket, "Rocket owin websocket") };
        var measurements = new List<Measurement>();
        var commands = new List<string>();
        var ports = FreePorts.Take(2);
        var servers = kinds.Select((k, i) => ServerProcess.Start(k.Item1, k.Item2, ports[i], settings.MinThreads)).ToList();
        try
        {
            foreach (var server in servers)
            {
                await server.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
                commands.Add($"- {server.Name}: `{server.CommandLine}`");
                Log.Progress($"{server.Name} ready on {server.Url} (pid {server.Pid})");
            }

            foreach (var server in servers.Where(_ => settings.Prewarm > 0))
            {
                Log.Progress($"prewarm {server.Name}: {settings.Prewarm} s");
                using var alone = Alone(server, servers);
                await LoadAsync(server.Port, settings with { Warmup = 0, Duration = settings.Prewarm }, cancellationToken).ConfigureAwait(false);
            }

            for (var round = 1; round <= settings.Runs; round++)
            {
                foreach (var server in servers)
                {
                    // The other server shares the core: paused, so work left over from its own run (an idle Kestrel was seen
                    // taking ~27% of the core for seconds after one) does not count against this one.
                    using var alone = Alone(server, servers);
                    var watch = CpuWatch.Start([.. servers.Select(s => s.Pid)]);
                    var ticks = ProcStats.CpuTicks(server.Pid);
                    var (rate, total) = await LoadAsync(server.Port, settings, cancellationToken).ConfigureAwait(false);

                    // CPU per message is what a loaded machine changes least: USER_HZ ticks (10 ms) over every round trip of the run.
                    var cpu = total > 0 ? (ProcStats.CpuTicks(server.Pid) - ticks) * 10_000.0 / total : double.NaN;
                    var (other, steal) = watch.Stop();
                    var (rss, threads) = server.Sample();
                    measurements.Add(new Measurement(round, server.Name, rate, cpu, rss, threads, other, steal));
                    Log.Progress($"run {round}/{settings.Runs} {server.Name}: {Format.Rate(rate)} messages/s, CPU {Format.Number(cpu, "0.0")} us/message, RSS {Format.MiB(rss)}, {threads} threads, other CPU {Format.Percent(other)}, steal {Format.Percent(steal)}");
                }
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                server.Dispose();
            }
        }

        var idle = new List<IdleResult>();
        if (settings.Idle > 0)
        {
            NativeMethods.RaiseOpenFileLimit((2 * settings.Idle) + 1024);
            foreach (var (kind, name) in kinds)
            {
                idle.Add(await MeasureIdleAsync(kind, name, settings, cancellationToken).ConfigureAwait(false));
            }
        }

        var report = await ReportAsync(settings, commands, measurements, idle, kinds.Select(k => k.Item2).ToArray(), cancellationToken).ConfigureAwait(false);
        await Report.PublishAsync(report, output, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Pauses every server but <paramref name="measured"/> until disposed.</summary>
    private static Paused Alone(ServerProcess measured, IReadOnlyList<ServerProcess> servers)
    {
        var others = servers.Where(s => s != measured).Select(s => s.Pid).ToArray();
        foreach (var pid in others)
        {
            NativeMethods.Pause(pid);
        }

        return new Paused(others);
    }

    private sealed class Paused(int[] pids) : IDisposable
    {
        public void Dispose()
        {
            foreach (var pid in pids)
            {
                NativeMethods.Resume(pid);
            }
        }
    }

    /// <summary>One load run from a child pinned to the load core: messages (round trips) per second, and round trips in all.</summary>
    private static async Task<(double Rate, long Total)> LoadAsync(int port, Settings settings, CancellationToken cancellationToken)
    {
        var command = Pinning.Wrap(LoadCore, Environment.ProcessPath ?? "dotnet", LoadArguments(port, settings));
        // Inline completions: the generator's own continuations run on its socket engine thread, as wrk runs its event loop,
        // so one load core drives more round trips than either server needs to be the bottleneck.
        using var load = ChildProcess.Start(command[0], command.Skip(1).ToArray(), new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" });
        var exit = await load.WaitForExitAsync(TimeSpan.FromSeconds(settings.Warmup + settings.Duration + 60), cancellationToken).ConfigureAwait(false);
        var match = LoadLine().Match(load.Output);
        if (exit != 0 || !match.Success)
        {
            throw new InvalidOperationException($"websocket-load failed ({exit}): {load.CommandLine}\n{load.Output}");
        }

        return (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    private static IReadOnlyList<string> LoadArguments(int port, Settings settings)
    {
        var self = typeof(WebSocketCommand).Assembly.Location;
        IReadOnlyList<string> arguments =
        [
            "websocket-load", "--port", port.ToString(CultureInfo.InvariantCulture), "--connections", settings.Connections.ToString(CultureInfo.InvariantCulture),
            "--warmup", settings.Warmup.ToString(CultureInfo.InvariantCulture), "--duration", settings.Duration.ToString(CultureInfo.InvariantCulture),
            "--message-size", settings.MessageSize.ToString(CultureInfo.InvariantCulture),
        ];
        return Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? [self, .. arguments] : arguments;
    }

    private static async Task<IdleResult> MeasureIdleAsync(ServerKind kind, string name, Settings settings, CancellationToken cancellationToken)
    {
        var port = FreePorts.Take(1)[0];
        using var server = ServerProcess.Start(kind, name, port, settings.MinThreads);
        var sockets = new List<ClientWebSocket>();
        try
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var uri = new Uri($"ws://127.0.0.1:{port}/ws");

            // Warm the handshake and echo paths, then read the baseline.
            var warm = await OpenAsync(uri, 256, cancellationToken).ConfigureAwait(false);
            Close(warm);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            var (rssBefore, threadsBefore) = server.Sample();

            Log.Progress($"{name}: opening {settings.Idle} WebSockets, one echo on each");
            sockets = await OpenAsync(uri, settings.Idle, cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            var (rssAfter, threadsAfter) = server.Sample();

            var started = Stopwatch.GetTimestamp();
            Close(await OpenAsync(uri, 1, cancellationToken).ConfigureAwait(false));
            var fresh = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            // The slope: as many again; the growth from N to 2N per socket.
            Log.Progress($"{name}: opening {settings.Idle} more");
            var more = await OpenAsync(uri, settings.Idle, cancellationToken).ConfigureAwait(false);
            sockets.AddRange(more);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            var (rssDoubled, _) = server.Sample();
            var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

            // Both servers wait the same: past Rocket's default quiet-time collection delay (a product default, not set here),
            // plus the monitor's tick and margin; the samples above stay where they were.
            var quiet = (new ServerLimits().QuietCollectionDelay ?? TimeSpan.Zero) + TimeSpan.FromSeconds(3);
            await Task.Delay(quiet, cancellationToken).ConfigureAwait(false);
            var (rssQuiet, _) = server.Sample();
            var result = new IdleResult(name, sockets.Count - more.Count, rssBefore, rssAfter, threadsBefore, threadsAfter, fresh, more.Count, rssDoubled, load, rssQuiet, quiet.TotalSeconds);
            Log.Progress($"{name}: {result.Opened} open, {Format.Number(result.KiBPerSocket, "0.0")} KiB/socket; {sockets.Count} open, slope {Format.Number(result.KiBPerSocketSlope, "0.0")} KiB/socket, {Format.Number(result.KiBPerSocketAfterQuiet, "0.0")} KiB/socket {quiet.TotalSeconds:0} s later; threads {threadsBefore} -> {threadsAfter}, fresh socket + echo {Format.Ms(fresh)}; load {load}");
            return result;
        }
        finally
        {
            Close(sockets);
        }
    }

    /// <summary>Opens <paramref name="count"/> sockets (64 at a time), each with one echo done.</summary>
    private static async Task<List<ClientWebSocket>> OpenAsync(Uri uri, int count, CancellationToken cancellationToken)
    {
        var sockets = new ClientWebSocket[count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, token) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(OperationTimeout);
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(uri, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[16];
            var result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token).ConfigureAwait(false);
            if (result.Count != 5)
            {
                throw new InvalidDataException($"echo of 5 bytes came back as {result.Count}");
            }

            sockets[i] = socket;
        }).ConfigureAwait(false);
        return [.. sockets];
    }

    private static void Close(List<ClientWebSocket> sockets)
    {
        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        sockets.Clear();
    }

    private static async Task<string> ReportAsync(Settings settings, List<string> commands, List<Measurement> measurements, List<IdleResult> idle, string[] names, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(await RunInfo.HeaderAsync($"WebSocket echo: {names[1]} vs {names[0]}", cancellationToken).ConfigureAwait(false));
        text.AppendLine(CultureInfo.InvariantCulture, $"- Load: `{Shell.Join(Pinning.Wrap(LoadCore, "dotnet", LoadArguments(0, settings)))}` (raw-socket WebSocket clients with inline socket completions, each sends a {settings.MessageSize}-byte masked text frame and waits for its echo; the server not measured is paused); "
                        + $"{settings.Runs} runs per server, alternating; prewarm {settings.Prewarm} s, warm-up {settings.Warmup} s per run");
        text.AppendLine(string.Join(Environment.NewLine, commands)).AppendLine();

        var medians = new MarkdownTable("server", ">messages/s", ">CPU us/message", ">RSS", ">threads");
        var median = names.Select(n => (Rate: Stats.Median(measurements.Where(m => m.Server == n).Select(m => m.Rate)),
            Cpu: Stats.Median(measurements.Where(m => m.Server == n).Select(m => m.CpuMicroseconds)),
            Rss: Stats.Median(measurements.Where(m => m.Server == n).Select(m => (double)m.RssKiB)),
            Threads: Stats.Median(measurements.Where(m => m.Server == n).Select(m => (double)m.Threads)))).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            medians.Add(names[i], Format.Rate(median[i].Rate), Format.Number(median[i].Cpu, "0.0"), Format.MiB(median[i].Rss), Format.Number(median[i].Threads));
        }

        medians.Add($"**{names[1]} / {names[0]}**", $"**{Format.Ratio(median[1].Rate, median[0].Rate)}**", Format.Ratio(median[1].Cpu, median[0].Cpu), Format.Ratio(median[1].Rss, median[0].Rss), Format.Ratio(median[1].Threads, median[0].Threads));
        text.AppendLine(CultureInfo.InvariantCulture, $"{settings.Connections} sockets, medians of {settings.Runs} runs of {settings.Duration} s (a message/s is one round trip):")
            .AppendLine().Append(medians).AppendLine();

        var all = new MarkdownTable(">run", "server", ">messages/s", ">CPU us/message", ">RSS", ">threads", ">other CPU", ">steal");
        foreach (var m in measurements)
        {
            all.Add(m.Round.ToString(CultureInfo.InvariantCulture), m.Server, Format.Rate(m.Rate), Format.Number(m.CpuMicroseconds, "0.0"), Format.MiB(m.RssKiB), m.Threads.ToString(CultureInfo.InvariantCulture), Format.Percent(m.OtherCpu), Format.Percent(m.Steal));
        }

        text.AppendLine("All runs, in order:").AppendLine().Append(all).AppendLine();
        if (idle.Count > 0)
        {
            var table = new MarkdownTable("server", ">open", ">RSS before", ">RSS after", ">KiB/socket", ">open (2N)", ">RSS (2N)", ">KiB/socket slope", ">KiB/socket (2N) after quiet", ">threads before", ">threads after", ">fresh socket + echo", ">load average");
            foreach (var r in idle)
            {
                table.Add(r.Server, r.Opened.ToString("N0", CultureInfo.InvariantCulture), Format.MiB(r.RssBeforeKiB), Format.MiB(r.RssAfterKiB), Format.Number(r.KiBPerSocket, "0.0"),
                    (r.Opened + r.OpenedMore).ToString("N0", CultureInfo.InvariantCulture), Format.MiB(r.RssDoubledKiB), Format.Number(r.KiBPerSocketSlope, "0.0"), Format.Number(r.KiBPerSocketAfterQuiet, "0.0"),
                    r.ThreadsBefore.ToString(CultureInfo.InvariantCulture), r.ThreadsAfter.ToString(CultureInfo.InvariantCulture), Format.Ms(r.FreshEchoMs), r.Load);
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"Idle: each server alone, {settings.Idle:N0} WebSockets opened (one echo each) and left open; KiB/socket = RSS growth / sockets. "
                            + $"Then {settings.Idle:N0} more: KiB/socket slope = RSS growth from {settings.Idle:N0} to {2 * settings.Idle:N0} open / {settings.Idle:N0} (steadier: the first burst's heap growth and garbage are mostly below it). "
                            + $"KiB/socket (2N) after quiet = RSS growth with all {2 * settings.Idle:N0} open / {2 * settings.Idle:N0}, sampled {(idle[0].QuietSeconds):0} s after the slope's sample, both servers alike: past Rocket's default ServerLimits.QuietCollectionDelay (one compacting collection once the process stops allocating; Kestrel has none). "
                            + $"The echo waits with a zero-byte receive, so no application buffer is held while idle. Load average when the slope was taken in the last column.")
                .AppendLine().Append(table);
        }

        return text.ToString();
    }

    [GeneratedRegex(@"roundtrips=(\d+) seconds=([0-9.]+) total=(\d+)")]
    private static partial Regex LoadLine();
}
