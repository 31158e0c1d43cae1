using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>idle</c>: what N idle keep-alive connections cost a server (RSS per connection, threads) and
/// whether a fresh request is still answered promptly meanwhile. Kestrel, then the candidate, each alone.
/// </summary>
internal static class IdleCommand
{
    /// <summary>File descriptors kept free beyond the connections (runtime, pipes, probes).</summary>
    private const int SpareDescriptors = 512;

    /// <summary>BENCHMARKING.md: ulimit -n is capped at 20,000 on these machines.</summary>
    private const int MaxConnections = 20_000 - SpareDescriptors;

    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var connections = new Option<int>("--connections") { Description = $"Idle keep-alive connections to open (at most {MaxConnections}).", DefaultValueFactory = _ => 10_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Connections being opened at once.", DefaultValueFactory = _ => 128 };
        var samples = new Option<int>("--samples") { Description = "Fresh requests timed before and while the connections are open (median reported).", DefaultValueFactory = _ => 9 };
        var settle = new Option<int>("--settle") { Description = "Seconds to wait after opening before reading RSS and threads.", DefaultValueFactory = _ => 2 };
        var candidate = new Option<ServerKind>("--candidate") { Description = "Server compared with Kestrel.", DefaultValueFactory = _ => ServerKind.Rocket };
        var minThreads = new Option<int>("--min-threads") { Description = "Rocket's minThreads.", DefaultValueFactory = _ => 4 };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file." };

        var command = new Command("idle", "Idle keep-alive connections: RSS per connection, threads, fresh-request latency meanwhile.")
        {
            connections, concurrency, samples, settle, candidate, minThreads, output,
        };
        command.SetAction((parse, cancellationToken) => ExecuteAsync(
            parse.GetValue(connections), parse.GetValue(concurrency), parse.GetValue(samples), parse.GetValue(settle),
            parse.GetValue(candidate), parse.GetValue(minThreads), parse.GetValue(output), cancellationToken));
        return command;
    }

    private sealed record Result(
        string Server, string Command, int Opened, int Failed, string FirstError,
        long RssBeforeKiB, long RssAfterKiB, int ThreadsBefore, int ThreadsAfter,
        double FreshBeforeMs, double FreshDuringMs, double FreshDuringMaxMs, int Reused, int ReuseTried)
    {
        public double KiBPerConnection => Opened > 0 ? (double)(RssAfterKiB - RssBeforeKiB) / Opened : double.NaN;
    }

    private static async Task<int> ExecuteAsync(
        int connections, int concurrency, int samples, int settle, ServerKind candidate, int minThreads,
        FileInfo? output, CancellationToken cancellationToken)
    {
        if (connections < 1 || concurrency < 1 || samples < 1 || settle < 0)
        {
            Console.Error.WriteLine("--connections, --concurrency and --samples must be positive, --settle not negative.");
            return 2;
        }
        Pinning.RequireTools("taskset", "nice");
        if (connections > MaxConnections)
        {
            Log.Progress($"--connections {connections} capped at {MaxConnections} (ulimit -n is capped at 20,000 here)");
            connections = MaxConnections;
        }
        // Client and server each hold one descriptor per connection; children inherit the raised limit.
        var limit = NativeMethods.RaiseOpenFileLimit(connections + SpareDescriptors);
        if (limit >= 0 && limit < connections + SpareDescriptors)
        {
            connections = (int)Math.Max(1, limit - SpareDescriptors);
            Log.Progress($"open-file limit is {limit}: measuring {connections} connections");
        }

        var results = new List<Result>();
        foreach (var (kind, name) in new[] { (ServerKind.Kestrel, "Kestrel"), (candidate, candidate == ServerKind.Kestrel ? "Kestrel (B)" : "Rocket") })
        {
            results.Add(await MeasureAsync(kind, name, connections, concurrency, samples, settle, minThreads, cancellationToken).ConfigureAwait(false));
        }

        var report = await ReportAsync(results, connections, cancellationToken).ConfigureAwait(false);
        await Report.PublishAsync(report, output, cancellationToken).ConfigureAwait(false);
        return results.All(r => r.Failed == 0) ? 0 : 1;
    }

    private static async Task<Result> MeasureAsync(
        ServerKind kind, string name, int connections, int concurrency, int samples, int settle, int minThreads,
        CancellationToken cancellationToken)
    {
        var port = FreePorts.Take(1)[0];
        using var server = ServerProcess.Start(kind, name, port, minThreads);
        var sockets = new Socket?[connections];
        try
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            Log.Progress($"{name} ready on {server.Url} (pid {server.Pid})");

            // Warm the accept and request paths (JIT, pools) so that "before" is a steady state.
            var warm = new Socket?[Math.Min(256, connections)];
            await OpenAsync(port, warm, concurrency, cancellationToken).ConfigureAwait(false);
            CloseAll(warm);
            var freshBefore = await FreshRequestsAsync(port, samples, cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            var (rssBefore, threadsBefore) = server.Sample();

            Log.Progress($"{name}: opening {connections} keep-alive connections, one GET / on each");
            var (failed, firstError) = await OpenAsync(port, sockets, concurrency, cancellationToken).ConfigureAwait(false);
            var opened = sockets.Count(s => s is not null);
            await Task.Delay(TimeSpan.FromSeconds(settle), cancellationToken).ConfigureAwait(false);
            var (rssAfter, threadsAfter) = server.Sample();
            var freshDuring = await FreshRequestsAsync(port, samples, cancellationToken).ConfigureAwait(false);
            var (reused, tried) = await ReuseSomeAsync(sockets, 100, cancellationToken).ConfigureAwait(false);

            var result = new Result(name, server.CommandLine, opened, failed, firstError, rssBefore, rssAfter,
                threadsBefore, threadsAfter, Stats.Median(freshBefore), Stats.Median(freshDuring), freshDuring.Max(), reused, tried);
            Log.Progress($"{name}: {opened} open ({failed} failed), {Format.Number(result.KiBPerConnection)} KiB/connection, "
                         + $"threads {threadsBefore} -> {threadsAfter}, fresh request {Format.Ms(result.FreshDuringMs)}");
            return result;
        }
        finally
        {
            CloseAll(sockets);
        }
    }

    /// <summary>Fills <paramref name="sockets"/> with connections that each completed one GET /.</summary>
    private static async Task<(int Failed, string FirstError)> OpenAsync(
        int port, Socket?[] sockets, int concurrency, CancellationToken cancellationToken)
    {
        var failed = 0;
        string? firstError = null;
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, sockets.Length), options, async (i, token) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(OperationTimeout);
            Socket? socket = null;
            try
            {
                socket = await RawHttp.ConnectAsync(port, timeout.Token).ConfigureAwait(false);
                var response = await RawHttp.ExchangeAsync(socket, timeout.Token).ConfigureAwait(false);
                if (response.Status != 200)
                {
                    throw new InvalidDataException($"status {response.Status}");
                }
                sockets[i] = socket;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                                      || (e is OperationCanceledException && !token.IsCancellationRequested))
            {
                socket?.Dispose();
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
            }
        }).ConfigureAwait(false);
        return (failed, firstError ?? "");
    }

    /// <summary>Latency (ms) of GET / on a new connection, <paramref name="samples"/> times in a row.</summary>
    private static async Task<double[]> FreshRequestsAsync(int port, int samples, CancellationToken cancellationToken)
    {
        var times = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var response = await RawHttp.GetAsync(port, OperationTimeout, cancellationToken).ConfigureAwait(false);
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (response.Status != 200)
            {
                throw new InvalidDataException($"fresh request answered {response.Status}");
            }
        }
        return times;
    }

    /// <summary>Sends a second GET on up to <paramref name="count"/> idle connections spread over the set.</summary>
    private static async Task<(int Reused, int Tried)> ReuseSomeAsync(Socket?[] sockets, int count, CancellationToken cancellationToken)
    {
        var open = sockets.Where(s => s is not null).Select(s => s!).ToArray();
        var picked = Enumerable.Range(0, Math.Min(count, open.Length)).Select(i => open[(int)((long)i * open.Length / Math.Min(count, open.Length))]).ToArray();
        var reused = 0;
        foreach (var socket in picked)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(OperationTimeout);
            try
            {
                if ((await RawHttp.ExchangeAsync(socket, timeout.Token).ConfigureAwait(false)).Status == 200)
                {
                    reused++;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Counted as not reused.
            }
        }
        return (reused, picked.Length);
    }

    private static void CloseAll(Socket?[] sockets)
    {
        for (var i = 0; i < sockets.Length; i++)
        {
            sockets[i]?.Dispose();
            sockets[i] = null;
        }
    }

    private static async Task<string> ReportAsync(List<Result> results, int connections, CancellationToken cancellationToken)
    {
        var text = new StringBuilder(await RunInfo.HeaderAsync($"Idle keep-alive connections: {connections:N0}", cancellationToken).ConfigureAwait(false));
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {r.Server}: `{r.Command}`");
        }
        text.AppendLine()
            .AppendLine("Each server alone: warm-up, RSS/threads read, then N connections opened with one GET / each and kept open; "
                        + "RSS/threads read again after the settle time. KiB/connection = (RSS after - RSS before) / connections open. "
                        + "Fresh request = GET / on a new connection (median of the samples; max while the connections are open). "
                        + "Reused = idle connections that answered a second GET.")
            .AppendLine();

        var table = new MarkdownTable("server", ">open", ">failed", ">RSS before", ">RSS after", ">KiB/connection", ">threads before", ">threads after",
            ">fresh request before", ">fresh request with N idle", ">max", ">reused");
        foreach (var r in results)
        {
            table.Add(r.Server, r.Opened.ToString("N0", CultureInfo.InvariantCulture), r.Failed.ToString(CultureInfo.InvariantCulture),
                Format.MiB(r.RssBeforeKiB), Format.MiB(r.RssAfterKiB), Format.Number(r.KiBPerConnection, "0.0"),
                r.ThreadsBefore.ToString(CultureInfo.InvariantCulture), r.ThreadsAfter.ToString(CultureInfo.InvariantCulture),
                Format.Ms(r.FreshBeforeMs), Format.Ms(r.FreshDuringMs), Format.Ms(r.FreshDuringMaxMs), $"{r.Reused}/{r.ReuseTried}");
        }
        if (results.Count == 2)
        {
            var (b, c) = (results[0], results[1]);
            table.Add($"**{c.Server} / {b.Server}**", "", "", Format.Ratio(c.RssBeforeKiB, b.RssBeforeKiB), Format.Ratio(c.RssAfterKiB, b.RssAfterKiB),
                $"**{Format.Ratio(c.KiBPerConnection, b.KiBPerConnection)}**", Format.Ratio(c.ThreadsBefore, b.ThreadsBefore),
                Format.Ratio(c.ThreadsAfter, b.ThreadsAfter), Format.Ratio(c.FreshBeforeMs, b.FreshBeforeMs),
                Format.Ratio(c.FreshDuringMs, b.FreshDuringMs), "", "");
        }
        text.Append(table);
        foreach (var r in results.Where(r => r.Failed > 0))
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"{r.Server}: {r.Failed} connections failed; first error: {r.FirstError}");
        }
        return text.ToString();
    }
}
