using RocketOwin.Internal;
using RocketOwin.Tests.Owin;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// The threads of the real rocket command under load: its workers, its listener and its one monitor thread, and no
/// .NET thread-pool or timer thread, because nothing of a plain keep-alive request path runs there (socket completions
/// run inline on the socket engine's thread, periodic work on the monitor thread). Counted by name: the runtime's own
/// threads (diagnostics, tiered compilation) vary and are not asserted.
/// </summary>
[NonParallelizable]
public sealed class RocketCommandThreadTests
{
    private const int Clients = 64;
    private const int ConnectionsPerClient = 10;
    private const int RequestsPerConnection = 3;

    [Test]
    public void UnderLoadTheRocketCommandRunsWorkersAListenerAndOneMonitorAndNoDotNetPoolOrTimerThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Thread names are read from /proc.");
        }

        var plugins = DotNetCli.NewTempDirectory("rocket-threads");
        try
        {
            DotNetCli.CopyOwinPlugin(plugins);

            // One core when taskset is there, as the benchmark runs it: connections then often send their request before
            // the server has started waiting on them (where a thread-pool continuation used to slip in).
            var app = typeof(WebSocketEchoStartup).Assembly.Location;
            var arguments = $"--plugins \"{plugins}\" --method owin --bind 127.0.0.1:0 --min-threads 2 --app \"{app}\" --set startup={typeof(WebSocketEchoStartup).FullName}";
            using var rocket = RocketProcess.StartOnOneCore(arguments);
            var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, rocket.WaitForPort());

            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var clients = Enumerable.Range(0, Clients).Select(_ => new Thread(() =>
            {
                try
                {
                    for (var c = 0; c < ConnectionsPerClient; c++)
                    {
                        using var client = new RawClient(endPoint, timeoutMs: 20_000);
                        for (var r = 0; r < RequestsPerConnection; r++)
                        {
                            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                            var status = client.ReadResponse().StatusCode;
                            if (status != 400)
                            {
                                failures.Enqueue($"status {status} (the echo app answers 400 to a plain GET)");
                            }
                        }
                    }
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    failures.Enqueue(e.Message);
                }
            })).ToList();
            clients.ForEach(t => t.Start());
            Assert.That(clients.All(t => t.Join(TimeSpan.FromSeconds(90))), Is.True, "the load finished within 90 s");
            Assert.That(failures, Is.Empty);

            var names = Directory.GetDirectories($"/proc/{rocket.Id}/task")
                .Select(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'))
                .ToList();
            var census = string.Join(", ", names.Order(StringComparer.Ordinal));
            Assert.That(names.Count(n => n == MonitorThread.Name), Is.EqualTo(1), census);
            Assert.That(names.Count(n => n.StartsWith(WorkerThreadStates.NamePrefix, StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(2), census);
            Assert.That(names.Where(n => n.StartsWith(".NET TP", StringComparison.Ordinal) || n == ".NET Timer"), Is.Empty, census);
        }
        finally
        {
            DotNetCli.DeleteQuietly(plugins);
        }
    }
}
