using System.CommandLine;
using System.Globalization;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>plaintext</c>: keep-alive GET / against Rocket and the Kestrel peer, side by side, exactly as
/// BENCHMARKING.md describes (pinning, 15 s prewarm, 3 s warm-up per mode, A B A B A B, medians).
/// </summary>
internal static class PlaintextCommand
{
    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds per measured wrk run (-d).", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per server and mode (median reported).", DefaultValueFactory = _ => 3 };
        var prewarm = new Option<int>("--prewarm") { Description = "Seconds of wrk -c64 per server before anything is measured (JIT tiering).", DefaultValueFactory = _ => 15 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of warm-up per server before each mode.", DefaultValueFactory = _ => 3 };
        var connections = new Option<int[]>("--connections")
        {
            Description = "Modes: wrk connection counts (-c).",
            DefaultValueFactory = _ => [64, 256],
            AllowMultipleArgumentsPerToken = true,
        };
        var candidate = new Option<ServerKind>("--candidate")
        {
            Description = "Server compared with Kestrel: rocket (a bare Worker), owin (an OWIN AppFunc), katana (a Katana Startup). 'kestrel' runs Kestrel against itself: an A/A check of the noise.",
            DefaultValueFactory = _ => ServerKind.Rocket,
        };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var maxOtherCpu = new Option<double>("--max-other-cpu")
        {
            Description = "Repeat a run when other processes used more than this (% of one core) or the hypervisor stole it.",
            DefaultValueFactory = _ => 10,
        };
        var retries = new Option<int>("--retries") { Description = "How often one noisy run is repeated before it is kept anyway (flagged).", DefaultValueFactory = _ => 2 };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file (bench/out/ is git-ignored)." };

        var command = new Command("plaintext", "Side-by-side keep-alive plaintext runs: Rocket vs Kestrel (wrk, medians, ratio).")
        {
            duration, runs, prewarm, warmup, connections, candidate, minThreads, maxOtherCpu, retries, output,
        };
        command.SetAction((parse, cancellationToken) => new Run(
            parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(prewarm), parse.GetValue(warmup),
            parse.GetValue(connections)!, parse.GetValue(candidate), parse.GetValue(minThreads),
            parse.GetValue(maxOtherCpu), parse.GetValue(retries)).ExecuteAsync(parse.GetValue(output), cancellationToken));
        return command;
    }

    private sealed record Measurement(
        int Connections, int Round, ServerProcess Server, WrkResult Result, long RssKiB, int Threads,
        double OtherCpu, double Steal, bool Kept, string Note);

    private sealed record Run(
        int Duration, int Runs, int Prewarm, int Warmup, int[] Connections, ServerKind Candidate,
        int MinThreads, double MaxOtherCpu, int Retries)
    {
        private readonly List<Measurement> _measurements = [];

        public async Task<int> ExecuteAsync(FileInfo? output, CancellationToken cancellationToken)
        {
            if (Duration < 1 || Runs < 1 || Prewarm < 0 || Warmup < 0 || Connections.Length == 0 || Connections.Any(c => c < 1))
            {
                Console.Error.WriteLine("--duration, --runs and --connections must be positive; --prewarm and --warmup not negative.");
                return 2;
            }
            Pinning.RequireTools("wrk", "taskset", "nice");

            var ports = FreePorts.Take(2);
            var servers = new List<ServerProcess>();
            try
            {
                // A = the Kestrel baseline, B = the candidate; both pinned to core 0, loaded one at a time.
                servers.Add(ServerProcess.Start(ServerKind.Kestrel, "Kestrel", ports[0], MinThreads));
                servers.Add(ServerProcess.Start(Candidate, Candidate switch
                {
                    ServerKind.Kestrel => "Kestrel (B)",
                    ServerKind.Owin => "Rocket owin AppFunc",
                    ServerKind.Katana => "Rocket owin Katana",
                    _ => "Rocket",
                }, ports[1], MinThreads));
                foreach (var server in servers)
                {
                    await server.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
                    if (server.FirstResponse!.PlaintextMismatch() is { } mismatch)
                    {
                        // Different responses would make the comparison meaningless.
                        throw new InvalidOperationException($"{server.Name} does not send the plaintext response ({mismatch}):\n{server.FirstResponse.Head}");
                    }
                    Log.Progress($"{server.Name} ready on {server.Url} (pid {server.Pid})");
                }

                if (Prewarm > 0)
                {
                    foreach (var server in servers)
                    {
                        Log.Progress($"prewarm {server.Name}: wrk -c64 -d{Prewarm}s");
                        await Wrk.RunAsync(server.Url, 64, Prewarm, cancellationToken).ConfigureAwait(false);
                    }
                }

                foreach (var mode in Connections)
                {
                    if (Warmup > 0)
                    {
                        foreach (var server in servers)
                        {
                            Log.Progress($"warm-up {server.Name}: wrk -c{mode} -d{Warmup}s");
                            await Wrk.RunAsync(server.Url, mode, Warmup, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    for (var round = 1; round <= Runs; round++)
                    {
                        foreach (var server in servers)
                        {
                            await MeasureAsync(mode, round, server, servers, cancellationToken).ConfigureAwait(false);
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
                    server.Dispose();
                }
            }
        }

        private async Task MeasureAsync(int mode, int round, ServerProcess server, List<ServerProcess> servers, CancellationToken cancellationToken)
        {
            for (var attempt = 0; ; attempt++)
            {
                var watch = CpuWatch.Start([.. servers.Select(s => s.Pid)]);
                var result = await Wrk.RunAsync(server.Url, mode, Duration, cancellationToken).ConfigureAwait(false);
                var (other, steal) = watch.Stop();
                if (server.Child.HasExited)
                {
                    throw new InvalidOperationException($"{server.Name} exited during the run:\n{server.Child.Output}");
                }
                var (rss, threads) = server.Sample();
                var noisy = other + steal > MaxOtherCpu;
                var kept = !noisy || attempt >= Retries;
                var note = string.Join("; ", new[]
                {
                    noisy ? (kept ? "noisy, kept after retries" : "noisy, repeated") : "",
                    result.Errors,
                }.Where(s => s.Length > 0));
                _measurements.Add(new Measurement(mode, round, server, result, rss, threads, other, steal, kept, note));
                Log.Progress($"c{mode} run {round}/{Runs} {server.Name}: {Format.Rate(result.RequestsPerSecond)} req/s, p99 {Format.Ms(result.P99Milliseconds)}, "
                         + $"RSS {Format.MiB(rss)}, {threads} threads, other CPU {Format.Percent(other)}, steal {Format.Percent(steal)}"
                         + (note.Length > 0 ? $" ({note})" : ""));
                if (kept)
                {
                    return;
                }
            }
        }

        private async Task<string> ReportAsync(List<ServerProcess> servers, CancellationToken cancellationToken)
        {
            var (baseline, candidate) = (servers[0], servers[1]);
            var text = new StringBuilder(await RunInfo.HeaderAsync($"Plaintext keep-alive: {candidate.Name} vs {baseline.Name}", cancellationToken).ConfigureAwait(false));
            var modes = string.Join(", ", Connections.Select(c => $"-c{c}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"- Load: `{Shell.Join(Wrk.Command("http://127.0.0.1:PORT/", Connections[0], Duration))}`, modes {modes}; "
                            + $"{Runs} runs per server and mode, alternating {baseline.Name} / {candidate.Name}; prewarm {Prewarm} s (-c64), warm-up {Warmup} s per mode");
            foreach (var server in servers)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {server.Name}: `{server.CommandLine}`");
            }
            text.AppendLine();

            var medians = new MarkdownTable("mode", "server", ">req/s", ">p99", ">RSS", ">threads");
            foreach (var mode in Connections)
            {
                var (b, c) = (Median(mode, baseline), Median(mode, candidate));
                medians.Add($"c{mode}", baseline.Name, Format.Rate(b.Rate), Format.Ms(b.P99), Format.MiB(b.Rss), Format.Number(b.Threads));
                medians.Add($"c{mode}", candidate.Name, Format.Rate(c.Rate), Format.Ms(c.P99), Format.MiB(c.Rss), Format.Number(c.Threads));
                medians.Add($"c{mode}", $"**{candidate.Name} / {baseline.Name}**", $"**{Format.Ratio(c.Rate, b.Rate)}**",
                    Format.Ratio(c.P99, b.P99), Format.Ratio(c.Rss, b.Rss), Format.Ratio(c.Threads, b.Threads));
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"Medians of {Runs} runs of {Duration} s (RSS and threads read after each run). Ratios under ~10% away from 1.00x are noise on these machines.")
                .AppendLine().Append(medians).AppendLine();

            var all = new MarkdownTable("mode", "run", "server", ">req/s", ">p99", ">RSS", ">threads", ">other CPU", ">steal", "note");
            foreach (var m in _measurements)
            {
                all.Add($"c{m.Connections}", m.Round.ToString(CultureInfo.InvariantCulture), m.Server.Name,
                    Format.Rate(m.Result.RequestsPerSecond), Format.Ms(m.Result.P99Milliseconds), Format.MiB(m.RssKiB),
                    m.Threads.ToString(CultureInfo.InvariantCulture), Format.Percent(m.OtherCpu), Format.Percent(m.Steal),
                    m.Kept ? m.Note : $"~~skipped~~ {m.Note}");
            }
            text.AppendLine("All runs, in order (other CPU and steal in % of one core; runs above "
                            + $"{Format.Percent(MaxOtherCpu)} are repeated up to {Retries} times):")
                .AppendLine().Append(all).AppendLine();

            text.AppendLine("Response heads (the readiness probe's GET /):").AppendLine();
            foreach (var server in servers)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {server.Name}: `{server.FirstResponse!.Head.Replace("\r\n", " | ", StringComparison.Ordinal)}`");
            }
            return text.ToString();
        }

        private (double Rate, double P99, double Rss, double Threads) Median(int mode, ServerProcess server)
        {
            var kept = _measurements.Where(m => m.Connections == mode && m.Server == server && m.Kept).ToArray();
            return (Stats.Median(kept.Select(m => m.Result.RequestsPerSecond)), Stats.Median(kept.Select(m => m.Result.P99Milliseconds)),
                Stats.Median(kept.Select(m => (double)m.RssKiB)), Stats.Median(kept.Select(m => (double)m.Threads)));
        }
    }
}
