using System.Diagnostics;
using RocketOwin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// The one thread that runs the monitor's timers and, with ROCKET_EPOLL=1, Rocket's epoll loop (it waits in the loop's
/// epoll_wait until the next timer): lent by Start(background: false)'s caller or dedicated ("Rocket monitor"), handed over
/// when the lent thread returns, gone once nothing is left to run. The test command runs this class with both engines.
/// </summary>
[NonParallelizable]
public sealed class MonitorLoopTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    private const string Method = "monitor-loop-hello";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [OneTimeSetUp]
    public void Register()
    {
        TestLogging.EnsureConfigured();
        Rocket.RegisterMethod(Method, Apps.Hello);
    }

    [Test]
    public void AServerStartedInTheBackgroundAndStoppedLeavesNoThreadOrLoopRegistrationBehind()
    {
        Assume.That(OperatingSystem.IsLinux(), "thread names are read from /proc");

        // Earlier tests' servers are stopped; their dedicated thread ends at its next look. If one still ran, this server
        // would share it and the check below would prove nothing.
        Assume.That(Wire.WaitUntil(() => !Threads().Contains(MonitorThread.Name), Bound), Is.True, "no other server of this process runs");
        var before = RocketThreadIds();

        using (var rocket = new Rocket(("127.0.0.1", 0), Method, null, 2, 0, timeout: 600, handleSignals: false))
        {
            rocket.Start(background: true);
            using var client = new RawClient(rocket.BoundEndPoints[0], timeoutMs: 10_000);
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            Assert.That(Threads(), Does.Contain(MonitorThread.Name), "a dedicated thread runs the server's timers (and its sockets with the loop on)");
            var started = Tasks().Where(t => t.Name.StartsWith("Rocket ", StringComparison.Ordinal) && !before.Contains(t.Id)).Select(t => t.Name).ToList();
            Assert.That(started, Has.None.EqualTo(EpollLoop.ThreadName), "the process's epoll loop has no thread of its own (tests' own loops have)");
            if (EpollLoop.Instance is { } loop)
            {
                Assert.That(loop.Serving, Is.True, "the listener and the connection are registered with the loop");
            }

            rocket.Stop();
        }

        Assert.That(Wire.WaitUntil(() => RocketThreadIds().IsSubsetOf(before), Bound), Is.True, "every thread the server started ended: " + string.Join(", ", Threads()));
        Assert.That(EpollLoop.Instance?.Serving ?? false, Is.False, "nothing is left registered with the loop");
    }

    [Test]
    public void WhenTheServerWhoseThreadWasLentStopsAnotherServerOfTheProcessStillServesAndClosesIdleConnectionsOnTime()
    {
        Assume.That(OperatingSystem.IsLinux(), "thread names are read from /proc");
        using var other = new Rocket(("127.0.0.1", 0), Method, null, 2, 0, timeout: 1, handleSignals: false);
        using var lending = new Rocket(("127.0.0.1", 0), Method, null, 2, 0, timeout: 600, handleSignals: false);
        other.Start(background: true);
        var lent = new Thread(() => lending.Start(background: false)) { IsBackground = true, Name = "lent to the monitor" };
        lent.Start();
        Assert.That(Wire.WaitUntil(() => lending.IsRunning, Bound), Is.True);

        // The dedicated thread retires for the lent one, which then runs the timers (and the loop) of both servers.
        Assert.That(Wire.WaitUntil(() => !Threads().Contains(MonitorThread.Name), Bound), Is.True, "the lent thread took over: " + string.Join(", ", Threads()));
        foreach (var server in new[] { other, lending })
        {
            using var client = new RawClient(server.BoundEndPoints[0], timeoutMs: 10_000);
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        }

        // A connection of the other server waits idle while the lent thread leaves: its edges and its timeout go to the next runner.
        using var idle = new RawClient(other.BoundEndPoints[0], timeoutMs: 10_000);
        idle.Send(Get);
        Assert.That(idle.ReadResponse().StatusCode, Is.EqualTo(200));
        lending.Stop();
        Assert.That(lent.Join(Bound), Is.True, "Start(background: false) returned once stopped");

        using (var client = new RawClient(other.BoundEndPoints[0], timeoutMs: 10_000))
        {
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200), "the other server still accepts and serves");
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200), "and reads a kept-alive connection's next request");
        }

        // Timeout 1 s, swept once a second: closed within ~2 s (generous bound for a loaded machine).
        var idleFor = Stopwatch.StartNew();
        Assert.That(idle.IsClosedByServer(), Is.True);
        Assert.That(idleFor.Elapsed, Is.LessThan(TimeSpan.FromSeconds(8)));
        Assert.That(Threads(), Does.Contain(MonitorThread.Name), "a dedicated thread took the loop over");
        other.Stop();
    }

    private static List<string> Threads()
        => Tasks().Select(t => t.Name).ToList();

    private static HashSet<string> RocketThreadIds()
        => Tasks().Where(t => t.Name.StartsWith("Rocket ", StringComparison.Ordinal)).Select(t => t.Id).ToHashSet();

    private static IEnumerable<(string Id, string Name)> Tasks()
    {
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            string name;
            try
            {
                name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // the thread ended between the listing and the read
            }

            yield return (Path.GetFileName(task), name);
        }
    }
}
