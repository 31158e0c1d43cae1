using System.CommandLine;
using System.Globalization;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>proxy</c>: Rocket's proxy method against nginx proxy_pass (upstream keepalive pool, HTTP/1.1,
/// Connection "") in front of the same upstream, side by side as BENCHMARKING.md describes: small
/// responses at -c64 and -c256, a 10 MiB body, and each proxy's RSS growth during a 1 GiB download and upload.
/// Both proxies and the upstream share core 0; wrk runs on core 1. Every run also records the CPU time each
/// proxy and the upstream spent per request. <c>--floor</c> adds a third candidate, <see cref="RawSocketFloorWorker"/>
/// (Rocket's core with raw sockets instead of an HTTP client), for the small-response modes only.
/// </summary>
internal static class ProxyCommand
{
    private const long TenMiB = 10L * 1024 * 1024;
    private const long OneGiB = 1024L * 1024 * 1024;

    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds per measured wrk run (-d).", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per proxy and mode (median reported).", DefaultValueFactory = _ => 3 };
        var prewarm = new Option<int>("--prewarm") { Description = "Seconds of wrk -c64 per proxy before anything is measured.", DefaultValueFactory = _ => 15 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of warm-up per proxy before each mode.", DefaultValueFactory = _ => 3 };
        var bigConnections = new Option<int>("--big-connections") { Description = "wrk -c for the 10 MiB mode.", DefaultValueFactory = _ => 16 };
        var transfer = new Option<long>("--transfer-bytes") { Description = "Size of the download and upload whose RSS growth is measured.", DefaultValueFactory = _ => OneGiB };
        var floor = new Option<bool>("--floor") { Description = "Also measure the raw-socket floor (Rocket's core, no HTTP client library) on the small-response modes." };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file (bench/out/ is git-ignored)." };
        var command = new Command("proxy", "Side-by-side reverse-proxy runs: Rocket's proxy method vs nginx proxy_pass, same upstream.")
        {
            duration, runs, prewarm, warmup, bigConnections, transfer, floor, output, ProxyServeCommand.Create(),
        };
        command.SetAction((parse, cancellationToken) => new ProxyRun(
            parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(prewarm), parse.GetValue(warmup),
            parse.GetValue(bigConnections), parse.GetValue(transfer), parse.GetValue(floor)).ExecuteAsync(parse.GetValue(output), cancellationToken));
        return command;
    }

    /// <summary>One proxy under test.</summary>
    internal sealed record Proxy(string Name, int Port, ChildProcess Child)
    {
        public string Url(string path) => $"http://127.0.0.1:{Port}{path}";
    }

    internal sealed record Mode(string Name, string Path, int Connections, long BodyBytes, bool Floor);

    /// <summary>One wrk run; <c>ProxyCpu</c> and <c>UpstreamCpu</c> are microseconds of CPU (user + system) per request.</summary>
    private sealed record Measurement(Mode Mode, int Round, Proxy Proxy, WrkResult Result, long RssKiB, int Threads, double OtherCpu, double Steal, double ProxyCpu, double UpstreamCpu);

    private sealed record ProxyRun(int Duration, int Runs, int Prewarm, int Warmup, int BigConnections, long TransferBytes, bool Floor)
    {
        private readonly List<Measurement> _measurements = [];
        private readonly List<(Proxy Proxy, TransferResult Result)> _transfers = [];

        public async Task<int> ExecuteAsync(FileInfo? output, CancellationToken cancellationToken)
        {
            if (Duration < 1 || Runs < 1 || Prewarm < 0 || Warmup < 0 || BigConnections < 1 || TransferBytes < 1)
            {
                Console.Error.WriteLine("--duration, --runs, --big-connections and --transfer-bytes must be positive; --prewarm and --warmup not negative.");
                return 2;
            }

            Pinning.RequireTools("wrk", "taskset", "nice", "nginx");
            Mode[] modes =
            [
                new("small, c64", "/", 64, 13, Floor: true),
                new("small, c256", "/", 256, 13, Floor: true),
                new($"10 MiB, c{BigConnections}", $"/bytes/{TenMiB}", BigConnections, TenMiB, Floor: false),
            ];
            var ports = FreePorts.Take(4);
            var children = new List<ChildProcess>();
            try
            {
                var upstream = ProxyProcesses.StartUpstream(ports[0]);
                children.Add(upstream);
                var nginx = new Proxy("nginx", ports[1], ProxyProcesses.StartNginx(ports[1], ports[0]));
                children.Add(nginx.Child);
                var rocket = new Proxy("Rocket", ports[2], ProxyProcesses.StartRocketProxy(ports[2], ports[0]));
                children.Add(rocket.Child);
                Proxy? floor = null;
                if (Floor)
                {
                    floor = new Proxy("floor", ports[3], ProxyProcesses.StartRocketProxy(ports[3], ports[0], "floor"));
                    children.Add(floor.Child);
                }

                Proxy[] proxies = floor is null ? [nginx, rocket] : [nginx, rocket, floor];

                await ProxyProcesses.WaitReadyAsync("upstream", ports[0], upstream, cancellationToken).ConfigureAwait(false);
                foreach (var proxy in proxies)
                {
                    await ProxyProcesses.WaitReadyAsync(proxy.Name, proxy.Port, proxy.Child, cancellationToken).ConfigureAwait(false);
                    Log.Progress($"{proxy.Name} ready on {proxy.Url("/")} (pid {proxy.Child.Id})");
                }

                foreach (var proxy in proxies.Where(_ => Prewarm > 0))
                {
                    Log.Progress($"prewarm {proxy.Name}: wrk -c64 -d{Prewarm}s");
                    await Wrk.RunAsync(proxy.Url("/"), 64, Prewarm, cancellationToken).ConfigureAwait(false);
                }

                foreach (var mode in modes)
                {
                    var measured = mode.Floor ? proxies : [nginx, rocket];
                    foreach (var proxy in measured.Where(_ => Warmup > 0))
                    {
                        await Wrk.RunAsync(proxy.Url(mode.Path), mode.Connections, Warmup, cancellationToken).ConfigureAwait(false);
                    }

                    for (var round = 1; round <= Runs; round++)
                    {
                        foreach (var proxy in measured)
                        {
                            await MeasureAsync(mode, round, proxy, upstream, [.. children.Select(c => c.Id)], cancellationToken).ConfigureAwait(false);
                        }
                    }
                }

                foreach (var upload in new[] { false, true })
                {
                    foreach (var proxy in new[] { nginx, rocket })
                    {
                        var result = await ProxyTransfer.RunAsync(proxy.Port, proxy.Child.Id, upload, TransferBytes, cancellationToken).ConfigureAwait(false);
                        _transfers.Add((proxy, result));
                        Log.Progress($"{result.Direction} of {Format.MiB(TransferBytes / 1024.0)} via {proxy.Name}: {result.MegabytesPerSecond:0} MB/s, "
                                     + $"RSS {Format.MiB(result.RssBeforeKiB)} -> peak {Format.MiB(result.RssPeakKiB)} (+{Format.MiB(result.GrowthKiB)})");
                    }
                }

                var report = await ReportAsync(modes, nginx, rocket, floor, upstream, cancellationToken).ConfigureAwait(false);
                await Report.PublishAsync(report, output, cancellationToken).ConfigureAwait(false);

                return 0;
            }
            finally
            {
                foreach (var child in Enumerable.Reverse(children))
                {
                    child.Dispose();
                }
            }
        }

        private async Task MeasureAsync(Mode mode, int round, Proxy proxy, ChildProcess upstream, int[] pids, CancellationToken cancellationToken)
        {
            var watch = CpuWatch.Start(pids);
            var (proxyTicks, upstreamTicks) = (ProcStats.CpuTicks(proxy.Child.Id), ProcStats.CpuTicks(upstream.Id));
            var result = await Wrk.RunAsync(proxy.Url(mode.Path), mode.Connections, Duration, cancellationToken).ConfigureAwait(false);
            var proxyCpu = MicrosecondsPerRequest(ProcStats.CpuTicks(proxy.Child.Id) - proxyTicks, result.Requests);
            var upstreamCpu = MicrosecondsPerRequest(ProcStats.CpuTicks(upstream.Id) - upstreamTicks, result.Requests);
            var (other, steal) = watch.Stop();
            if (proxy.Child.HasExited)
            {
                throw new InvalidOperationException($"{proxy.Name} exited during the run:\n{proxy.Child.Output}");
            }

            var rss = ProcStats.RssKiB(proxy.Child.Id);
            var threads = ProcStats.Threads(proxy.Child.Id);
            _measurements.Add(new Measurement(mode, round, proxy, result, rss, threads, other, steal, proxyCpu, upstreamCpu));
            Log.Progress($"{mode.Name} run {round}/{Runs} {proxy.Name}: {Format.Rate(result.RequestsPerSecond)} req/s, p99 {Format.Ms(result.P99Milliseconds)}, "
                         + $"CPU/request {Format.Number(proxyCpu, "0.00")} us proxy + {Format.Number(upstreamCpu, "0.00")} us upstream, "
                         + $"RSS {Format.MiB(rss)}, {threads} threads, other CPU {Format.Percent(other)}, steal {Format.Percent(steal)}"
                         + (result.Errors.Length > 0 ? $" ({result.Errors})" : ""));
        }

        private async Task<string> ReportAsync(Mode[] modes, Proxy nginx, Proxy rocket, Proxy? floor, ChildProcess upstream, CancellationToken cancellationToken)
        {
            var text = new StringBuilder(await RunInfo.HeaderAsync("Reverse proxy: Rocket proxy method vs nginx proxy_pass", cancellationToken).ConfigureAwait(false));
            text.AppendLine(CultureInfo.InvariantCulture, $"- Load: `{Shell.Join(Wrk.Command("http://127.0.0.1:PORT/PATH", 64, Duration))}`; {Runs} runs per proxy and mode, alternating nginx / Rocket; prewarm {Prewarm} s, warm-up {Warmup} s per mode")
                .AppendLine(CultureInfo.InvariantCulture, $"- Upstream (shared, Rocket with a fixed-response worker): `{upstream.CommandLine}`")
                .AppendLine(CultureInfo.InvariantCulture, $"- nginx: `{nginx.Child.CommandLine}` (bench/nginx/proxy.conf)")
                .AppendLine(CultureInfo.InvariantCulture, $"- Rocket: `{rocket.Child.CommandLine}`")
                .AppendLine(floor is null ? "- No floor run (`--floor` adds one)." : $"- Floor (RawSocketFloorWorker: Rocket's core, raw pooled sockets, no HTTP client; small modes only): `{floor.Child.CommandLine}`")
                .AppendLine("- CPU/request: the process's utime + stime over the run (USER_HZ ticks) divided by the requests wrk completed; "
                            + "on loopback a sender also pays the receiver's TCP work.")
                .AppendLine("- Proxies and upstream on core 0, wrk on core 1.")
                .AppendLine();

            var table = new MarkdownTable("mode", "proxy", ">req/s", ">MB/s", ">p99", ">RSS", ">threads", ">CPU us/req proxy", ">CPU us/req upstream");
            foreach (var mode in modes)
            {
                var (n, r) = (Median(mode, nginx), Median(mode, rocket));
                AddRow(table, mode, "nginx", n);
                AddRow(table, mode, "Rocket", r);
                table.Add(mode.Name, "**Rocket / nginx**", $"**{Format.Ratio(r.Rate, n.Rate)}**", "", Format.Ratio(r.P99, n.P99), Format.Ratio(r.Rss, n.Rss), Format.Ratio(r.Threads, n.Threads), Format.Ratio(r.ProxyCpu, n.ProxyCpu), "");
                if (floor is not null && mode.Floor)
                {
                    var f = Median(mode, floor);
                    AddRow(table, mode, "floor", f);
                    table.Add(mode.Name, "floor / nginx", Format.Ratio(f.Rate, n.Rate), "", Format.Ratio(f.P99, n.P99), Format.Ratio(f.Rss, n.Rss), Format.Ratio(f.Threads, n.Threads), Format.Ratio(f.ProxyCpu, n.ProxyCpu), "");
                }
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"Medians of {Runs} runs of {Duration} s. Ratios under ~10% away from 1.00x are noise on these machines.")
                .AppendLine().Append(table).AppendLine();

            var transfers = new MarkdownTable("transfer", "proxy", ">MB/s", ">RSS before", ">RSS peak", ">growth");
            foreach (var (proxy, result) in _transfers)
            {
                transfers.Add($"{result.Direction} {Format.MiB(result.Bytes / 1024.0)}", proxy.Name, Format.Number(result.MegabytesPerSecond, "0"),
                    Format.MiB(result.RssBeforeKiB), Format.MiB(result.RssPeakKiB), Format.MiB(result.GrowthKiB));
            }

            text.AppendLine("Large transfers on one connection (RSS sampled every 20 ms; goal for Rocket: growth under 16 MiB):")
                .AppendLine().Append(transfers).AppendLine();

            var all = new MarkdownTable("mode", "run", "proxy", ">req/s", ">p99", ">RSS", ">CPU us/req proxy", ">CPU us/req upstream", ">other CPU", ">steal", "errors");
            foreach (var m in _measurements)
            {
                all.Add(m.Mode.Name, m.Round.ToString(CultureInfo.InvariantCulture), m.Proxy.Name, Format.Rate(m.Result.RequestsPerSecond),
                    Format.Ms(m.Result.P99Milliseconds), Format.MiB(m.RssKiB), Format.Number(m.ProxyCpu, "0.00"), Format.Number(m.UpstreamCpu, "0.00"),
                    Format.Percent(m.OtherCpu), Format.Percent(m.Steal), m.Result.Errors);
            }

            text.AppendLine("All runs, in order:").AppendLine().Append(all).AppendLine();
            return text.ToString();
        }

        private MedianRow Median(Mode mode, Proxy proxy)
        {
            var runs = _measurements.Where(m => m.Mode == mode && m.Proxy == proxy).ToArray();
            return new MedianRow(Stats.Median(runs.Select(m => m.Result.RequestsPerSecond)), Stats.Median(runs.Select(m => m.Result.P99Milliseconds)),
                Stats.Median(runs.Select(m => (double)m.RssKiB)), Stats.Median(runs.Select(m => (double)m.Threads)),
                Stats.Median(runs.Select(m => m.ProxyCpu)), Stats.Median(runs.Select(m => m.UpstreamCpu)));
        }

        private static void AddRow(MarkdownTable table, Mode mode, string name, MedianRow row)
            => table.Add(mode.Name, name, Format.Rate(row.Rate), Format.Number(row.Rate * mode.BodyBytes / 1e6, "0"), Format.Ms(row.P99), Format.MiB(row.Rss),
                Format.Number(row.Threads), Format.Number(row.ProxyCpu, "0.00"), Format.Number(row.UpstreamCpu, "0.00"));

        /// <summary>CPU clock ticks (USER_HZ, 100 per second on Linux) over <paramref name="requests"/>, in microseconds per request.</summary>
        private static double MicrosecondsPerRequest(long ticks, long requests) => requests > 0 ? ticks * 10_000.0 / requests : double.NaN;

        private sealed record MedianRow(double Rate, double P99, double Rss, double Threads, double ProxyCpu, double UpstreamCpu);
    }
}
