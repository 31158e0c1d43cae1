using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using RocketOwin.Benchmarks.Harness;

namespace RocketOwin.Benchmarks.Commands;

/// <summary>
/// <c>rolling-restart</c>: the operator's check of a zero-loss restart. Two <c>rocket --method static</c>
/// instances behind HAProxy (the distribution's package, default retry settings, health checks on), wrk
/// through HAProxy the whole time, and each instance in turn stopped with SIGTERM and started again, several
/// times. Every failed request counts: wrk's socket errors (connect, read, write, timeout) and non-2xx answers.
/// </summary>
internal static partial class RollingRestartCommand
{
    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds of wrk load (the restarts happen inside it).", DefaultValueFactory = _ => 60 };
        var restarts = new Option<int>("--restarts") { Description = "Restarts in all (alternating between the two instances).", DefaultValueFactory = _ => 6 };
        var connections = new Option<int>("--connections") { Description = "wrk connections to HAProxy (-c).", DefaultValueFactory = _ => 64 };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file." };
        var command = new Command("rolling-restart", "Two rocket --method static behind HAProxy under wrk, each restarted with SIGTERM in turn: counts failed requests (goal 0).")
        {
            duration, restarts, connections, output,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(duration), parse.GetValue(restarts), parse.GetValue(connections), parse.GetValue(output), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int duration, int restarts, int connections, FileInfo? output, CancellationToken cancellationToken)
    {
        if (duration < 10 || restarts < 0 || connections < 1)
        {
            Console.Error.WriteLine("--duration must be at least 10, --restarts at least 0 (0: the same load without restarts, a baseline), --connections at least 1.");
            return 2;
        }

        Pinning.RequireTools("wrk", "haproxy");
        var rocketDll = RocketHostPath();
        var plugins = Path.Combine(RepositoryRoot(), "plugins");
        if (!File.Exists(Path.Combine(plugins, "Rocket.Methods.Static", "Rocket.Methods.Static.dll")))
        {
            throw new InvalidOperationException($"the static plugin is not published in {plugins}: run `dotnet tool restore && dotnet cake --target=PublishPlugins`.");
        }

        var scratch = Directory.CreateTempSubdirectory("rocket-bench-rolling-");
        var instances = new Instance[2];
        ChildProcess? haproxy = null;
        try
        {
            var root = Directory.CreateDirectory(Path.Combine(scratch.FullName, "www")).FullName;
            await File.WriteAllTextAsync(Path.Combine(root, "index.html"), "<h1>rolling restart</h1>\n", cancellationToken).ConfigureAwait(false);
            var ports = FreePorts.Take(3);
            for (var i = 0; i < 2; i++)
            {
                instances[i] = new Instance($"rocket-{(char)('a' + i)}", ports[i + 1], rocketDll, root, plugins);
                await instances[i].StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var socket = Path.Combine(scratch.FullName, "haproxy.sock");
            var config = Path.Combine(scratch.FullName, "haproxy.cfg");
            await File.WriteAllTextAsync(config, HaproxyConfig(ports[0], instances, socket), cancellationToken).ConfigureAwait(false);
            haproxy = ChildProcess.Start("haproxy", ["-db", "-f", config]);
            foreach (var instance in instances)
            {
                await WaitUpAsync(socket, instance.Name, haproxy, cancellationToken).ConfigureAwait(false);
            }

            var url = $"http://127.0.0.1:{ports[0]}/";
            Log.Progress($"wrk -c{connections} -d{duration}s {url} through HAProxy; {restarts} restarts with SIGTERM");
            var wrk = ChildProcess.Start("wrk", ["-t1", $"-c{connections}", $"-d{duration}s", "--latency", url]);
            var log = new List<string>();
            var clock = Stopwatch.StartNew();
            // Spread over the run, so each restart finds the other instance long up (a real rolling restart waits for readiness).
            var interval = TimeSpan.FromSeconds((duration - 8.0) / Math.Max(1, restarts));
            var done = 0;
            for (; done < restarts && clock.Elapsed < TimeSpan.FromSeconds(duration - 5); done++)
            {
                var due = TimeSpan.FromSeconds(3) + (interval * done) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }

                var instance = instances[done % 2];
                var (stopped, ready) = await instance.RestartAsync(cancellationToken).ConfigureAwait(false);
                var up = Stopwatch.StartNew();
                await WaitUpAsync(socket, instance.Name, haproxy, cancellationToken).ConfigureAwait(false);
                var line = string.Create(CultureInfo.InvariantCulture, $"| {done + 1} | {instance.Name} | {clock.Elapsed.TotalSeconds:0.0} s | {stopped.TotalMilliseconds:0} ms | {ready.TotalMilliseconds:0} ms | {up.Elapsed.TotalMilliseconds:0} ms |");
                log.Add(line);
                Log.Progress(line);
            }

            await wrk.WaitForExitAsync(TimeSpan.FromSeconds(duration + 60), cancellationToken).ConfigureAwait(false);
            var result = Wrk.Parse(wrk.Output);
            var socketErrors = SocketErrors().Match(wrk.Output);
            var errorCounts = socketErrors.Success
                ? socketErrors.Groups.Cast<Group>().Skip(1).Select(g => long.Parse(g.Value, CultureInfo.InvariantCulture)).ToArray()
                : [0L, 0L, 0L, 0L];
            var non2xx = Non2xx().Match(wrk.Output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            // wrk's "timeout" counts answers that came later than its 2 s timeout (stats_record in response_complete):
            // slow, not failed. They come from HAProxy's 1 s turn-around between retries while an instance restarts.
            var failed = errorCounts[0] + errorCounts[1] + errorCounts[2] + non2xx;
            var haproxyLog = haproxy.Output.Split('\n').Select(l => HaproxyLogLine().Match(l)).Where(m => m.Success && m.Groups["server"].Value != "<NOSRV>").ToList();
            var retried = haproxyLog.Count(m => m.Groups["state"].Value == "----");
            var haproxyErrors = haproxyLog.Where(m => m.Groups["state"].Value != "----").Select(m => m.Value).ToList();

            var report = new StringBuilder();
            report.Append(await RunInfo.HeaderAsync("rolling-restart", cancellationToken).ConfigureAwait(false));
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Two `{Shell.Join(instances[0].Arguments)}`-style instances behind `haproxy {HaproxyVersion()}` (default retries, `check`), `wrk -t1 -c{connections} -d{duration}s` through HAProxy, {done} restarts with SIGTERM.");
            report.AppendLine();
            report.AppendLine("| # | instance | at | SIGTERM to exit | start to ready | ready to UP in HAProxy |");
            report.AppendLine("|---:|---|---:|---:|---:|---:|");
            foreach (var line in log)
            {
                report.AppendLine(line);
            }

            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Requests: {result.Requests:N0} ({result.RequestsPerSecond:N0}/s). Socket errors: connect {errorCounts[0]}, read {errorCounts[1]}, write {errorCounts[2]}, timeout {errorCounts[3]}. Non-2xx/3xx: {non2xx}.");
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"**Failed requests: {failed}** (goal 0; wrk's socket errors connect + read + write, and non-2xx/3xx; its {errorCounts[3]} \"timeouts\" are answers slower than 2 s, not failures).");
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"HAProxy: {retried} request(s) answered after connection retries (an instance restarting), {haproxyErrors.Count} failed on a backend{(haproxyErrors.Count == 0 ? "." : " (termination state after the bytes: see HAProxy's \"Session state at disconnection\"):")}");
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"Requests that arrived on an idle connection as a stopping instance closed it (rocket's log): {instances.Sum(i => i.CrossedRequests)}.");
            if (output is not null)
            {
                await File.WriteAllTextAsync(output.FullName + ".haproxy.log", haproxy.Output, cancellationToken).ConfigureAwait(false);
            }

            foreach (var line in haproxyErrors.Take(20))
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"    {line.Trim()}");
            }
            await Report.PublishAsync(report.ToString(), output, cancellationToken).ConfigureAwait(false);
            return failed == 0 ? 0 : 3;
        }
        finally
        {
            haproxy?.Dispose();
            foreach (var instance in instances)
            {
                instance?.Dispose();
            }

            try
            {
                scratch.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string HaproxyConfig(int frontendPort, Instance[] instances, string socket)
    {
        var config = new StringBuilder();
        config.AppendLine("global");
        config.AppendLine(CultureInfo.InvariantCulture, $"  stats socket {socket} level admin");
        config.AppendLine("  maxconn 4096");
        config.AppendLine("  log stdout format raw local0");
        config.AppendLine("defaults");
        config.AppendLine("  mode http");
        config.AppendLine("  log global");
        config.AppendLine("  option httplog");
        config.AppendLine("  option dontlog-normal");
        config.AppendLine("  timeout connect 5s");
        config.AppendLine("  timeout client 30s");
        config.AppendLine("  timeout server 30s");
        config.AppendLine("frontend web");
        config.AppendLine(CultureInfo.InvariantCulture, $"  bind 127.0.0.1:{frontendPort}");
        config.AppendLine("  default_backend rockets");
        config.AppendLine("backend rockets");
        config.AppendLine("  balance roundrobin");
        foreach (var instance in instances)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"  server {instance.Name} 127.0.0.1:{instance.Port} check");
        }

        return config.ToString();
    }

    /// <summary>Waits until HAProxy's stats say the server is UP (its health checks passed).</summary>
    private static async Task WaitUpAsync(string socket, string server, ChildProcess haproxy, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (haproxy.HasExited)
            {
                throw new InvalidOperationException("haproxy exited:\n" + haproxy.Output);
            }

            try
            {
                using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
                await client.SendAsync("show stat\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                using var stream = new NetworkStream(client);
                using var reader = new StreamReader(stream);
                var csv = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);

                // show stat: "# pxname,svname,...,status(17th),..."; status is UP, DOWN, "UP 1/3", ...
                if (csv.Split('\n').Select(l => l.Split(',')).Any(f => f.Length > 17 && f[1] == server && f[17] == "UP"))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"HAProxy did not report {server} UP within 60 s.");
    }

    private static string HaproxyVersion()
    {
        using var version = ChildProcess.Start("haproxy", ["-v"]);
        version.WaitForExitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).GetAwaiter().GetResult();
        return Regex.Match(version.Output, @"version (\S+)").Groups[1].Value;
    }

    private static string RocketHostPath()
    {
        var path = typeof(RollingRestartCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RocketHostPath")?.Value;
        return !string.IsNullOrEmpty(path) && File.Exists(path)
            ? path
            : throw new FileNotFoundException($"rocket.dll not built (expected at '{path}'): build Rocket.Benchmarks, which builds it.");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rocket.Owin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository (Rocket.Owin.sln) above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    /// <summary>An httplog line: ... frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes - - STATE conns retries ...</summary>
    [GeneratedRegex(@"\] web (?<backend>\S+)/(?<server>\S+) \S+ (?<status>-?\d+) \d+ \S+ \S+ (?<state>\S{4}) .*$", RegexOptions.Multiline)]
    private static partial Regex HaproxyLogLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    /// <summary>One rocket instance on a fixed port, restarted in place.</summary>
    private sealed class Instance(string name, int port, string rocketDll, string root, string plugins) : IDisposable
    {
        private ChildProcess? _child;
        private int _crossed;

        public string Name { get; } = name;

        public int Port { get; } = port;

        /// <summary>Requests that crossed the lingering close of an idle connection, as the stopped instances logged them.</summary>
        public int CrossedRequests => Volatile.Read(ref _crossed);

        public IReadOnlyList<string> Arguments { get; } =
            [rocketDll, "--method", "static", "--root", root, "--bind", $"127.0.0.1:{port}", "--plugins", plugins, "--min-threads", "4"];

        public async Task<TimeSpan> StartAsync(CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            _child = ChildProcess.Start(ServerProcess.DotnetHost(), Arguments);
            _child.LineReceived += line =>
            {
                if (line.Contains("as Stop was closing it", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _crossed);
                }
            };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                if (_child.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited during start-up: {_child.CommandLine}\n{_child.Output}");
                }

                try
                {
                    var response = await RawHttp.GetAsync(Port, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                    if (response.Status == 200)
                    {
                        return clock.Elapsed;
                    }
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidDataException
                                          || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{Name} not ready after 60 s:\n{_child.Output}");
                }

                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>SIGTERM, wait for the exit, start again: how long the stop and the start took.</summary>
        public async Task<(TimeSpan Stopped, TimeSpan Ready)> RestartAsync(CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var old = _child!;
            if (!NativeMethods.Terminate(old.Id))
            {
                throw new InvalidOperationException($"{Name}: SIGTERM failed.");
            }

            var code = await old.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var stopped = clock.Elapsed;
            if (code != 0)
            {
                throw new InvalidOperationException($"{Name} exited with {code} after SIGTERM:\n{old.Output}");
            }

            old.Dispose();
            var ready = await StartAsync(cancellationToken).ConfigureAwait(false);
            return (stopped, ready);
        }

        public void Dispose() => _child?.Dispose();
    }
}
