using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Owin;
using RocketOwin.Internal;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// The rocket command with ROCKET_EPOLL=1: a plain connection's whole life (accept, head, body, response, idle, close) runs
/// on Rocket's epoll loop. Large request bodies (by length, chunked, a byte at a time), large responses to a client that
/// reads slowly (sends that fill the socket buffer wait for the loop's write edge; sendfile for static files), a burst of
/// connects; and the runtime's socket engine never wakes for any of it. Its `.NET Sockets` thread still exists: on .NET 10
/// constructing any Socket object starts the runtime's engine threads (measured: <c>new Socket(new SafeSocketHandle(fd,
/// true))</c> alone starts one), so the proof is that thread's context switches, which stay flat through the whole load.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public sealed class EpollPlainPathTests
{
    private const string RuntimeSocketEngine = ".NET Sockets";
    private const int Burst = 500;
    private static readonly Dictionary<string, string> SwitchOn = new() { ["ROCKET_EPOLL"] = "1" };
    private static readonly Dictionary<string, string> SwitchOff = new() { ["ROCKET_EPOLL"] = "0" }; // not inherited from a test run with it on

    [Test]
    public void WithTheEpollSwitchTheOwinMethodReadsLargeBodiesByLengthChunkedAndAByteAtATimeAndSendsLargeResponsesToASlowReaderWithoutWakingTheRuntimesSocketEngine()
    {
        Assume.That(EpollLoop.IsSupported, "the loop needs Linux on x86-64 or arm64");
        var plugins = DotNetCli.NewTempDirectory("rocket-epoll-owin");
        try
        {
            DotNetCli.CopyOwinPlugin(plugins);
            var app = typeof(EpollBodyEchoStartup).Assembly.Location;
            using var rocket = StartOnOneCore($"--plugins \"{plugins}\" --method owin --bind 127.0.0.1:0 --app \"{app}\" --set startup={typeof(EpollBodyEchoStartup).FullName}", SwitchOn);
            var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());
            var engineBefore = SettledSocketEngineSwitches(rocket.Id, endPoint);
            var body = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 7)).ToArray();
            var expected = $"{body.Length} {Sum(body)}";

            using (var client = new RawClient(endPoint, timeoutMs: 20_000))
            {
                // By length, then chunked in 8 KiB chunks, on one keep-alive connection.
                client.Send(Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n"));
                client.Send(body);
                Assert.That(client.ReadResponse().BodyText, Is.EqualTo(expected));

                client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (var at = 0; at < body.Length; at += 8192)
                {
                    client.Send(Encoding.ASCII.GetBytes("2000\r\n"));
                    client.Send(body.AsSpan(at, 8192).ToArray());
                    client.Send("\r\n");
                }

                client.Send("0\r\n\r\n");
                Assert.That(client.ReadResponse().BodyText, Is.EqualTo(expected));

                // A byte at a time: every byte its own segment (NoDelay), most of them after the server found the socket empty.
                var slow = body.AsSpan(0, 3000).ToArray();
                client.Send(Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {slow.Length}\r\n\r\n"));
                for (var i = 0; i < slow.Length; i++)
                {
                    client.Send([slow[i]]);
                    if (i % 500 == 0)
                    {
                        Thread.Sleep(20);
                    }
                }

                Assert.That(client.ReadResponse().BodyText, Is.EqualTo($"{slow.Length} {Sum(slow)}"));
            }

            // 8 MiB to a client with a small receive buffer that reads slowly: the server's sends fill the socket buffer.
            ReadSlowly(endPoint, "/big", EpollBodyEchoStartup.BigLength, EpollBodyEchoStartup.BigByte);
            BurstOfConnects(endPoint, "/small");

            Assert.That(EpollRegistrations.Count(rocket.Id).Loop, Is.GreaterThan(0), "Rocket's loop serves the process");
            Assert.That(SocketEngineSwitches(rocket.Id), Is.EqualTo(engineBefore), "the runtime's socket engine woke: a socket was registered with it");
        }
        finally
        {
            DotNetCli.DeleteQuietly(plugins);
        }
    }

    [Test]
    public void WithTheEpollSwitchTheStaticMethodSendsAFileToASlowReaderAndServesABurstOfConnectsWithoutWakingTheRuntimesSocketEngine()
    {
        Assume.That(EpollLoop.IsSupported, "the loop needs Linux on x86-64 or arm64");
        var plugins = DotNetCli.NewTempDirectory("rocket-epoll-static");
        try
        {
            DotNetCli.CopyStaticPlugin(plugins);
            var root = Directory.CreateDirectory(Path.Combine(plugins, "root")).FullName;
            const int FileLength = 6 << 20;
            File.WriteAllBytes(Path.Combine(root, "big.bin"), Enumerable.Repeat((byte)'z', FileLength).ToArray());
            File.WriteAllText(Path.Combine(root, "small"), "small");

            var counts = new Dictionary<bool, List<string>>();
            var engineWakeUps = new Dictionary<bool, long>();
            var phases = new Dictionary<bool, string>();
            var loopRegistrations = new Dictionary<bool, int>();
            foreach (var on in new[] { true, false })
            {
                using var rocket = StartOnOneCore($"--plugins \"{plugins}\" --method static --root \"{root}\" --bind 127.0.0.1:0", on ? SwitchOn : SwitchOff);
                var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());
                var before = SettledSocketEngineSwitches(rocket.Id, endPoint);
                ReadSlowly(endPoint, "/big.bin", FileLength, (byte)'z');
                var afterFile = SocketEngineSwitches(rocket.Id) - before;
                BurstOfConnects(endPoint, "/small");
                engineWakeUps[on] = SocketEngineSwitches(rocket.Id) - before;
                phases[on] = $"{afterFile} after the file, {engineWakeUps[on]} after the burst";
                counts[on] = rocket.ThreadNames().Where(n => !n.StartsWith(".NET Tiered", StringComparison.Ordinal)).ToList();
                loopRegistrations[on] = EpollRegistrations.Count(rocket.Id).Loop;
            }

            var census = $"on: {string.Join(", ", counts[true])}; off: {string.Join(", ", counts[false])}; engine wake-ups on {phases[true]}, off {phases[false]}";
            Assert.That(loopRegistrations[true], Is.GreaterThan(0), "with the switch Rocket's loop serves; " + census);
            Assert.That(loopRegistrations[false], Is.Zero, "without it, nothing is registered with Rocket's loop; " + census);
            Assert.That(engineWakeUps[false], Is.GreaterThan(0), "without the switch the runtime's engine serves the sockets; " + census);
            Assert.That(engineWakeUps[true], Is.Zero, "with the switch the runtime's engine never wakes; " + census);

            // Rocket's loop adds no thread (the main thread, lent to the monitor, waits in its epoll_wait); the runtime's
            // engine thread stays (see the class remarks), idle. Thread-pool workers are left out: both engines hand a send
            // that waited for buffer space to the pool (its own heuristics decide how many threads that makes); every other
            // thread must be the same.
            static bool Compared(string n) => !n.StartsWith(".NET TP Worker", StringComparison.Ordinal);
            Assert.That(counts[true].Where(Compared), Is.EquivalentTo(counts[false].Where(Compared)), census);
        }
        finally
        {
            DotNetCli.DeleteQuietly(plugins);
        }
    }

    private static RocketProcess StartOnOneCore(string arguments, IDictionary<string, string>? environment)
        => File.Exists("/usr/bin/taskset")
            ? RocketProcess.Start($"-c 0 dotnet \"{RocketProcess.RocketDll}\" {arguments}", executable: "/usr/bin/taskset", environment: environment)
            : RocketProcess.Start(arguments, environment: environment);

    /// <summary>
    /// <see cref="SocketEngineSwitches"/> once the process has served a first request and the count has stopped moving for
    /// 200 ms (bounded): the engine threads' own start-up (they start with the first Socket object) is not the load's.
    /// </summary>
    private static long SettledSocketEngineSwitches(int pid, IPEndPoint endPoint)
    {
        using (var warmUp = new RawClient(endPoint, timeoutMs: 20_000))
        {
            warmUp.Send("GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(warmUp.ReadResponse().StatusCode, Is.EqualTo(200));
        }

        var last = SocketEngineSwitches(pid);
        for (var i = 0; i < 50; i++)
        {
            Thread.Sleep(200);
            var now = SocketEngineSwitches(pid);
            if (now == last)
            {
                break;
            }

            last = now;
        }

        return last;
    }

    /// <summary>Context switches, voluntary and not, of the process's runtime socket engine threads (/proc).</summary>
    private static long SocketEngineSwitches(int pid)
    {
        long switches = 0;
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') != RuntimeSocketEngine)
                {
                    continue;
                }

                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        switches += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return switches;
    }

    private static long Sum(ReadOnlySpan<byte> bytes)
    {
        long sum = 0;
        foreach (var b in bytes)
        {
            sum += b;
        }

        return sum;
    }

    /// <summary>GET <paramref name="path"/> with a 4 KiB receive buffer, 16 KiB per read with a pause: every byte must come.</summary>
    private static void ReadSlowly(IPEndPoint endPoint, string path, int length, byte expected)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, ReceiveTimeout = 20_000 };
        socket.Connect(endPoint);
        socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[16384];
        var received = new MemoryStream();
        var reads = 0;
        while (true)
        {
            var n = socket.Receive(buffer);
            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
            if (++reads % 8 == 0)
            {
                Thread.Sleep(5); // the server's socket buffer fills meanwhile
            }
        }

        var all = received.ToArray();
        var headEnd = all.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.That(Encoding.ASCII.GetString(all, 0, 12), Is.EqualTo("HTTP/1.1 200"));
        Assert.That(all.Length - headEnd, Is.EqualTo(length), "every byte of the body, then the close");
        Assert.That(all.AsSpan(headEnd).IndexOfAnyExcept(expected), Is.EqualTo(-1));
    }

    /// <summary>Opens <see cref="Burst"/> connections at once (all connected before the first request), then a request on each.</summary>
    private static void BurstOfConnects(IPEndPoint endPoint, string path)
    {
        var sockets = new ConcurrentBag<Socket>();
        try
        {
            var connects = Enumerable.Range(0, Burst).Select(async _ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000, NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(endPoint);
            }).ToArray();
            Assert.That(Task.WaitAll(connects, TimeSpan.FromSeconds(30)), Is.True, "500 connects within 30 s");

            var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            foreach (var socket in sockets)
            {
                socket.Send(request);
            }

            var buffer = new byte[4096];
            foreach (var socket in sockets)
            {
                var total = 0;
                int n;
                while ((n = socket.Receive(buffer, total, buffer.Length - total, SocketFlags.None)) > 0)
                {
                    total += n;
                }

                Assert.That(Encoding.ASCII.GetString(buffer, 0, Math.Min(total, 12)), Is.EqualTo("HTTP/1.1 200"));
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }
}

/// <summary>
/// A Katana Startup for <see cref="EpollPlainPathTests"/>: /echo reads the whole request body asynchronously and answers
/// "length sum"; /big answers <see cref="BigLength"/> bytes written in 64 KiB pieces; anything else "small".
/// </summary>
public sealed class EpollBodyEchoStartup
{
    public const int BigLength = 8 << 20;
    public const byte BigByte = (byte)'b';

    /// <summary>Builds the pipeline.</summary>
    public void Configuration(IAppBuilder app)
        => app.Run(async context =>
        {
            if (context.Request.Path.Value == "/echo")
            {
                var buffer = new byte[8192];
                long length = 0, sum = 0;
                int n;
                while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += n;
                    foreach (var b in buffer.AsSpan(0, n))
                    {
                        sum += b;
                    }
                }

                await context.Response.WriteAsync($"{length} {sum}");
                return;
            }

            if (context.Request.Path.Value == "/big")
            {
                context.Response.ContentLength = BigLength;
                var piece = Enumerable.Repeat(BigByte, 64 * 1024).ToArray();
                for (var sent = 0; sent < BigLength; sent += piece.Length)
                {
                    await context.Response.Body.WriteAsync(piece);
                }

                return;
            }

            await context.Response.WriteAsync("small");
        });
}
