using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>static</c>: keep-alive GETs of a 1 KiB, a 64 KiB and a 10 MiB file from nginx and from Rocket's
/// static method, side by side as BENCHMARKING.md describes (pinning, prewarm, warm-up per file,
/// A B A B A B, medians, ratios of requests/s and bytes/s). nginx runs from bench/nginx/static.conf with
/// its own prefix in a scratch directory.
/// </summary>
internal static class StaticCommand
{
    private static readonly (string Name, int Size)[] Files = [("f1k.bin", 1024), ("f64k.bin", 64 * 1024), ("f10m.bin", 10 * 1024 * 1024)];

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds per measured wrk run (-d).", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per server and file (median reported).", DefaultValueFactory = _ => 3 };
        var prewarm = new Option<int>("--prewarm") { Description = "Seconds of wrk -c64 per server before anything is measured (JIT tiering).", DefaultValueFactory = _ => 15 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of warm-up per server before each file.", DefaultValueFactory = _ => 3 };
        var connections = new Option<int>("--connections") { Description = "wrk connections (-c).", DefaultValueFactory = _ => 64 };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var memoryMax = new Option<long?>("--memory-cache-max-file-size") { Description = "Passed to serve-static (bytes; 0 = always sendfile); default: the method's default." };
        var maxOtherCpu = new Option<double>("--max-other-cpu")
        {
            Description = "Repeat a run when other processes used more than this (% of one core) or the hypervisor stole it.",
            DefaultValueFactory = _ => 10,
        };
        var retries = new Option<int>("--retries") { Description = "How often one noisy run is repeated before it is kept anyway (flagged).", DefaultValueFactory = _ => 2 };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file (bench/out/ is git-ignored)." };
        var command = new Command("static", "Side-by-side static file runs: Rocket's static method vs nginx (1 KiB, 64 KiB, 10 MiB; wrk, medians, ratios).")
        {
            duration, runs, prewarm, warmup, connections, minThreads, memoryMax, maxOtherCpu, retries, output,
        };
        command.SetAction((parse, cancellationToken) => new Run(
            parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(prewarm), parse.GetValue(warmup),
            parse.GetValue(connections), parse.GetValue(minThreads), parse.GetValue(memoryMax),
            parse.GetValue(maxOtherCpu), parse.GetValue(retries)).ExecuteAsync(parse.GetValue(output), cancellationToken));
        return command;
    }

    private sealed record Server(string Name, ChildProcess Child, int Port, string CommandLine)
    {
        public string Url(string file) => $"http://127.0.0.1:{Port}/{file}";
    }

    private sealed record Measurement(string File, int Size, int Round, Server Server, WrkResult Result, long RssKiB, int Threads, double OtherCpu, double Steal, bool Kept, string Note);

    private sealed record Run(
        int Duration, int Runs, int Prewarm, int Warmup, int Connections, int MinThreads, long? MemoryMax, double MaxOtherCpu, int Retries)
    {
        private readonly List<Measurement> _measurements = [];

        public async Task<int> ExecuteAsync(FileInfo? output, CancellationToken cancellationToken)
        {
            if (Duration < 1 || Runs < 1 || Prewarm < 0 || Warmup < 0 || Connections < 1)
            {
                Console.Error.WriteLine("--duration, --runs and --connections must be positive; --prewarm and --warmup not negative.");
                return 2;
            }

            Pinning.RequireTools("wrk", "taskset", "nice", "nginx");
            var scratch = Directory.CreateTempSubdirectory("rocket-bench-static-");
            var servers = new List<Server>();
            try
            {
                var root = Directory.CreateDirectory(Path.Combine(scratch.FullName, "www")).FullName;
                foreach (var (name, size) in Files)
                {
                    await File.WriteAllBytesAsync(Path.Combine(root, name), RandomNumberGenerator.GetBytes(size), cancellationToken).ConfigureAwait(false);
                }

                var ports = FreePorts.Take(3);
                servers.Add(StartNginx("nginx", "nginx", string.Empty, scratch.FullName, root, ports[0]));
                servers.Add(StartNginx(NginxCachedName, "nginx-cached", OpenFileCache, scratch.FullName, root, ports[1]));
                servers.Add(StartRocket(root, ports[2]));
                foreach (var server in servers)
                {
                    await WaitReadyAsync(server, cancellationToken).ConfigureAwait(false);
                    Log.Progress($"{server.Name} ready on port {server.Port} (pid {server.Child.Id})");
                }

                foreach (var server in servers.Where(_ => Prewarm > 0))
                {
                    Log.Progress($"prewarm {server.Name}: wrk -c64 -d{Prewarm}s /{Files[0].Name}");
                    await Wrk.RunAsync(server.Url(Files[0].Name), 64, Prewarm, cancellationToken).ConfigureAwait(false);
                }

                foreach (var (name, size) in Files)
                {
                    foreach (var server in servers.Where(_ => Warmup > 0))
                    {
                        await Wrk.RunAsync(server.Url(name), Connections, Warmup, cancellationToken).ConfigureAwait(false);
                    }

                    for (var round = 1; round <= Runs; round++)
                    {
                        foreach (var server in servers)
                        {
                            await MeasureAsync(name, size, round, server, servers, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                var report = await ReportAsync(servers, cancellationToken).ConfigureAwait(false);
                await Report.PublishAsync(report, output, cancellationToken).ConfigureAwait(false);

                return 0;
            }
            finally
            {
                foreach (var server in servers)
                {
                    server.Child.Dispose();
                }

                scratch.Delete(recursive: true);
            }
        }

        private static Server StartNginx(string name, string folder, string extra, string scratch, string root, int port)
        {
            var template = Path.Combine(RepositoryRoot(), "bench", "nginx", "static.conf");
            var prefix = Directory.CreateDirectory(Path.Combine(scratch, folder)).FullName;
            var config = File.ReadAllText(template)
                .Replace("{{EXTRA}}", extra, StringComparison.Ordinal)
                .Replace("{{PREFIX}}", prefix, StringComparison.Ordinal)
                .Replace("{{PORT}}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{{ROOT}}", root, StringComparison.Ordinal);
            var configPath = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(configPath, config);
            var command = Pinning.Wrap(Pinning.ServerCore, "nginx", ["-c", configPath, "-p", prefix + "/"]);
            var child = ChildProcess.Start(command[0], command.Skip(1).ToArray());
            return new Server(name, child, port, Shell.Join(command));
        }

        private Server StartRocket(string root, int port)
        {
            var environment = new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" };
            List<string> arguments = [typeof(StaticCommand).Assembly.Location, "serve-static", "--root", root,
                "--port", port.ToString(CultureInfo.InvariantCulture), "--min-threads", MinThreads.ToString(CultureInfo.InvariantCulture)];
            if (MemoryMax is { } max)
            {
                arguments.AddRange(["--memory-cache-max-file-size", max.ToString(CultureInfo.InvariantCulture)]);
            }

            var command = Pinning.Wrap(Pinning.ServerCore, DotnetHost(), arguments);
            var child = ChildProcess.Start(command[0], command.Skip(1).ToArray(), environment);
            return new Server("Rocket static", child, port, Shell.Join(environment.Select(e => $"{e.Key}={e.Value}").Concat(command)));
        }

        /// <summary>Polls until every file comes back whole; fails with the server's output if it exits or times out.</summary>
        private static async Task WaitReadyAsync(Server server, CancellationToken cancellationToken)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            Exception? last = null;
            while (DateTime.UtcNow < deadline)
            {
                if (server.Child.HasExited)
                {
                    throw new InvalidOperationException($"{server.Name} exited during start-up: {server.CommandLine}\n{server.Child.Output}");
                }

                try
                {
                    foreach (var (name, size) in Files)
                    {
                        var body = await http.GetByteArrayAsync(new Uri(server.Url(name)), cancellationToken).ConfigureAwait(false);
                        if (body.Length != size)
                        {
                            throw new InvalidOperationException($"{server.Name} sent {body.Length} bytes for /{name}, not {size}.");
                        }
                    }

                    return;
                }
                catch (HttpRequestException e)
                {
                    last = e;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            throw new TimeoutException($"{server.Name} not ready after 60 s ({last?.Message}): {server.CommandLine}\n{server.Child.Output}");
        }

        private async Task MeasureAsync(string name, int size, int round, Server server, List<Server> servers, CancellationToken cancellationToken)
        {
            for (var attempt = 0; ; attempt++)
            {
                var watch = CpuWatch.Start([.. servers.Select(s => s.Child.Id)]);
                var result = await Wrk.RunAsync(server.Url(name), Connections, Duration, cancellationToken).ConfigureAwait(false);
                var (other, steal) = watch.Stop();
                if (server.Child.HasExited)
                {
                    throw new InvalidOperationException($"{server.Name} exited during the run:\n{server.Child.Output}");
                }

                var (rss, threads) = (ProcStats.RssKiB(server.Child.Id), ProcStats.Threads(server.Child.Id));
                var noisy = other + steal > MaxOtherCpu;
                var kept = !noisy || attempt >= Retries;
                var note = string.Join("; ", new[] { noisy ? (kept ? "noisy, kept after retries" : "noisy, repeated") : "", result.Errors }.Where(n => n.Length > 0));
                _measurements.Add(new Measurement(name, size, round, server, result, rss, threads, other, steal, kept, note));
                Log.Progress($"{name} run {round}/{Runs} {server.Name}: {Format.Rate(result.RequestsPerSecond)} req/s, {GBps(result.RequestsPerSecond * size)}, "
                             + $"p99 {Format.Ms(result.P99Milliseconds)}, RSS {Format.MiB(rss)}, {threads} threads, other CPU {Format.Percent(other)}, steal {Format.Percent(steal)}"
                             + (note.Length > 0 ? $" ({note})" : ""));
                if (kept)
                {
                    return;
                }
            }
        }

        private async Task<string> ReportAsync(List<Server> servers, CancellationToken cancellationToken)
        {
            var (peers, rocket) = (servers[..^1], servers[^1]);
            var text = new StringBuilder(await RunInfo.HeaderAsync("Static files, keep-alive: Rocket static vs nginx", cancellationToken).ConfigureAwait(false));
            text.AppendLine(CultureInfo.InvariantCulture, $"- Load: `{Shell.Join(Wrk.Command("http://127.0.0.1:PORT/FILE", Connections, Duration))}`; "
                            + $"{Runs} runs per server and file, alternating {string.Join(" / ", servers.Select(s => s.Name))}; prewarm {Prewarm} s (-c64, 1 KiB), warm-up {Warmup} s per file");
            foreach (var server in servers)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {server.Name}: `{server.CommandLine}`");
            }

            text.AppendLine("- nginx config: bench/nginx/static.conf (1 worker, sendfile on, tcp_nopush on, access_log off, keepalive_requests 1000000); "
                            + $"{NginxCachedName}: the same plus `{OpenFileCache.Trim()}`").AppendLine();
            var table = new MarkdownTable("file", "server", ">req/s", ">body bytes/s", ">p99", ">RSS", ">threads");
            foreach (var (name, size) in Files)
            {
                var r = Median(name, rocket);
                foreach (var peer in peers)
                {
                    var n = Median(name, peer);
                    table.Add(Label(size), peer.Name, Format.Rate(n.Rate), GBps(n.Rate * size), Format.Ms(n.P99), Format.MiB(n.Rss), Format.Number(n.Threads));
                }

                table.Add(Label(size), "Rocket static", Format.Rate(r.Rate), GBps(r.Rate * size), Format.Ms(r.P99), Format.MiB(r.Rss), Format.Number(r.Threads));
                foreach (var peer in peers)
                {
                    var n = Median(name, peer);
                    table.Add(Label(size), $"**Rocket / {peer.Name}**", $"**{Format.Ratio(r.Rate, n.Rate)}**", $"**{Format.Ratio(r.Rate, n.Rate)}**",
                        Format.Ratio(r.P99, n.P99), Format.Ratio(r.Rss, n.Rss), Format.Ratio(r.Threads, n.Threads));
                }
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"Medians of {Runs} runs of {Duration} s at -c{Connections}. Goals (issue 5): >= 1.0x req/s for 1 KiB, >= 0.9x bytes/s for 64 KiB and 10 MiB. Differences under ~10% are noise on these machines.").AppendLine().Append(table).AppendLine();
            var all = new MarkdownTable("file", "run", "server", ">req/s", ">p99", ">RSS", ">threads", ">other CPU", ">steal", "note");
            foreach (var m in _measurements)
            {
                all.Add(m.File, m.Round.ToString(CultureInfo.InvariantCulture), m.Server.Name, Format.Rate(m.Result.RequestsPerSecond), Format.Ms(m.Result.P99Milliseconds),
                    Format.MiB(m.RssKiB), m.Threads.ToString(CultureInfo.InvariantCulture), Format.Percent(m.OtherCpu), Format.Percent(m.Steal), m.Kept ? m.Note : $"~~skipped~~ {m.Note}");
            }

            return text.AppendLine(CultureInfo.InvariantCulture, $"All runs, in order (other CPU and steal in % of one core; runs above {Format.Percent(MaxOtherCpu)} are repeated up to {Retries} times):").AppendLine().Append(all).ToString();
        }

        private (double Rate, double P99, double Rss, double Threads) Median(string file, Server server)
        {
            var runs = _measurements.Where(m => m.File == file && m.Server == server && m.Kept).ToArray();
            return (Stats.Median(runs.Select(m => m.Result.RequestsPerSecond)), Stats.Median(runs.Select(m => m.Result.P99Milliseconds)),
                Stats.Median(runs.Select(m => (double)m.RssKiB)), Stats.Median(runs.Select(m => (double)m.Threads)));
        }
    }

    private const string NginxCachedName = "nginx open_file_cache";

    /// <summary>nginx's descriptor and stat cache (off by default): the tuned peer the issue asks the goal to be measured against.</summary>
    private const string OpenFileCache = "    open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; open_file_cache_min_uses 1; open_file_cache_errors on;";

    private static string Label(int size) => size >= 1 << 20 ? $"{size >> 20} MiB" : $"{size >> 10} KiB";

    private static string GBps(double bytesPerSecond) => (bytesPerSecond / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB/s";

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "bench", "nginx", "static.conf")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new FileNotFoundException("bench/nginx/static.conf not found above " + AppContext.BaseDirectory);
    }

    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
