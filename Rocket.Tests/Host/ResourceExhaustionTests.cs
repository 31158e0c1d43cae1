using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// The real rocket command in a child process under OS limits (prlimit, a pids cgroup): what a client can exhaust, the
/// server must survive and recover from. Each test is bounded to seconds.
/// </summary>
[NonParallelizable]
public class ResourceExhaustionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [OneTimeSetUp]
    public void BuildSample() => _ = TestPlugins.SampleFolder;

    [Test]
    public void OutOfDescriptorsTheServerAnswers503StaysUpAndServesAgainWhenClientsLeave()
    {
        Assume.That(File.Exists("/usr/bin/prlimit") || File.Exists("/bin/prlimit"), "prlimit (util-linux) is needed");
        using var rocket = RocketProcess.Start(
            $"--nofile=1024:1024 dotnet \"{RocketProcess.RocketDll}\" --plugins \"{TestPlugins.SampleFolder}\" --method health --bind 127.0.0.1:0 --min-threads 2",
            executable: "prlimit");
        var port = rocket.WaitForPort();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);

        // Twice the descriptors the server has, each connected and silent.
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < 2000; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(endPoint);
                silent.Add(s);
            }

            // The excess is answered 503 at accept (the derived limit is 1024 - 128 = 896 connections).
            var refused = 0;
            var clock = Stopwatch.StartNew();
            foreach (var s in silent.Skip(1900))
            {
                s.ReceiveTimeout = (int)Math.Max(100, (Bound - clock.Elapsed).TotalMilliseconds);
                var buffer = new byte[256];
                try
                {
                    var n = s.Receive(buffer);
                    refused += Encoding.ASCII.GetString(buffer, 0, n).StartsWith("HTTP/1.1 503 ", StringComparison.Ordinal) ? 1 : 0;
                }
                catch (SocketException)
                {
                }
            }

            Assert.That(refused, Is.GreaterThan(50), $"of the last 100 connections, {refused} got a 503.\nstderr:\n{rocket.Stderr}");
        }
        finally
        {
            foreach (var s in silent)
            {
                s.Dispose();
            }
        }

        // The clients left: the server serves again once it has seen them go. Until then its table still counts them and a
        // new connection is refused 503 at accept (the limit doing its job): on a loaded machine that takes a moment.
        var served = false;
        var deadline = Stopwatch.StartNew();
        while (!(served = Served(port)) && deadline.Elapsed < Bound)
        {
            Thread.Sleep(100);
        }

        Assert.That(served, Is.True, $"no 200 within {Bound} after the clients left.\nstdout:\n{rocket.Stdout}\nstderr:\n{rocket.Stderr}");
        Assert.That(rocket.Stdout.Split('\n').Count(l => l.Contains(" ERROR ", StringComparison.Ordinal) || l.Contains(" WARN ", StringComparison.Ordinal)), Is.LessThan(10), "logged once per interval, not per connection:\n" + rocket.Stdout);
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    [Test]
    public void UnderAPidsLimitAWorkerThreadTheOsRefusesIsLoggedAndTheServerServesOn()
    {
        var cgroup = PidsCgroup.TryCreate(out var why);
        Assume.That(cgroup, Is.Not.Null, why);
        using (cgroup)
        {
            // --max-threads 0: no limit of the server's own, so only the OS stops the pool growing. The request log of the
            // flood below is filtered out in the child, so a slow reader of its output cannot stall it.
            // The runtime creates some threads of its own lazily (tiered compilation's background worker above all); one
            // of those refused is a fail-fast in the runtime ("Out of memory."), which no server code can catch. So the
            // child runs without tiering and is warmed up before the limit is set: the thread the OS refuses is then
            // the pool's, which is what this test is about.
            using var rocket = RocketProcess.Start(
                $"-c \"echo $$ > {cgroup!.Procs} && DOTNET_TieredCompilation=0 dotnet {RocketProcess.RocketDll} --plugins {TestPlugins.SampleFolder} --method health --bind 127.0.0.1:0 --min-threads 2 --max-threads 0 | grep --line-buffered -v Rocket.Requests\"",
                executable: "sh");
            var port = rocket.WaitForPort();
            for (var i = 0; i < 20; i++)
            {
                Assert.That(Served(port), Is.True, "warm-up request not served");
            }

            cgroup.Limit(cgroup.Current + 6);

            // Clients that pipeline many requests and never read: each blocks a worker in a send, so the pool grows.
            var request = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 1000)));
            var clients = new List<Socket>();
            try
            {
                for (var i = 0; i < 40 && !rocket.Stdout.Contains("Could not start a worker thread", StringComparison.Ordinal); i++)
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendTimeout = 5000 };
                    s.Connect(new IPEndPoint(IPAddress.Loopback, port));
                    clients.Add(s);
                    try
                    {
                        s.Send(request);
                    }
                    catch (SocketException)
                    {
                        // The server stopped reading this one (its worker is blocked): that is the point.
                    }
                }

                Assert.That(Wait(() => rocket.Stdout.Contains("Could not start a worker thread", StringComparison.Ordinal)), Is.True, $"no refused thread start was logged.\nstdout:\n{Tail(rocket.Stdout)}\nstderr:\n{rocket.Stderr}");
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }

            Assert.That(Wait(() => Served(port)), Is.True, $"no 200 after the clients left.\nstdout:\n{Tail(rocket.Stdout)}\nstderr:\n{rocket.Stderr}");
            Assert.That(rocket.Stderr, Does.Not.Contain("Unhandled exception"));
            Assert.That(rocket.Stderr, Does.Not.Contain("Out of memory"));
        }
    }

    /// <summary>The log's last lines (the request log of a flood is long).</summary>
    private static string Tail(string log) => log.Length <= 4000 ? log : "...\n" + log[^4000..];

    private static bool Wait(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Bound)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(100);
        }

        return false;
    }

    /// <summary>
    /// True when /health answers 200 "ok". Asserts nothing: NUnit records a failed Assert in the test's result even when
    /// its AssertionException is caught, so a probe that asserts fails the test at its first 503 instead of trying again.
    /// </summary>
    private static bool Served(int port)
    {
        try
        {
            using var client = new RawClient(new IPEndPoint(IPAddress.Loopback, port));
            client.Send("GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            var response = client.ReadResponse();
            if (response.StatusCode != 200)
            {
                return false;
            }

            using var json = System.Text.Json.JsonDocument.Parse(response.Body);
            return json.RootElement.GetProperty("status").GetString() == "ok";
        }
        catch (Exception e) when (e is IOException or SocketException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>A pids cgroup of its own (v1 under /sys/fs/cgroup/pids, or v2), removed on dispose.</summary>
    private sealed class PidsCgroup : IDisposable
    {
        private readonly string _folder;

        private PidsCgroup(string folder) => _folder = folder;

        public string Procs => Path.Combine(_folder, "cgroup.procs");

        public long Current => long.Parse(File.ReadAllText(Path.Combine(_folder, "pids.current")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        public static PidsCgroup? TryCreate(out string why)
        {
            var parent = Directory.Exists("/sys/fs/cgroup/pids") ? "/sys/fs/cgroup/pids"
                : File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Contains("pids", StringComparison.Ordinal) ? "/sys/fs/cgroup"
                : null;
            if (parent is null)
            {
                why = "no pids cgroup controller at /sys/fs/cgroup (v1 or v2)";
                return null;
            }

            var folder = Path.Combine(parent, "rocket-test-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                Directory.CreateDirectory(folder);
                if (!File.Exists(Path.Combine(folder, "pids.max")))
                {
                    Directory.Delete(folder);
                    why = $"{parent} does not delegate the pids controller";
                    return null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                why = $"cannot create a cgroup under {parent}: {e.Message}";
                return null;
            }

            why = string.Empty;
            return new PidsCgroup(folder);
        }

        public void Limit(long? max) => File.WriteAllText(Path.Combine(_folder, "pids.max"), max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "max");

        public void Dispose()
        {
            // The child is gone (or being killed); the folder can go once its last task has left.
            for (var i = 0; i < 50; i++)
            {
                try
                {
                    Directory.Delete(_folder);
                    return;
                }
                catch (IOException)
                {
                    Thread.Sleep(100);
                }
            }
        }
    }
}
