using System.Net;
using RocketOwin.Internal;
using RocketOwin.Tests.Plugins;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// ROCKET_EPOLL, the switch between Rocket's own epoll loop and the runtime's socket engine, as the rocket command reads it:
/// 0 and 1 choose, unset is the default (EpollLoop.OnByDefault, where the loop is supported), anything else stops the start
/// with a message naming the variable and the value (never a silent default).
/// </summary>
public sealed class EpollSwitchTests
{
    private static string Plugins => $"--plugins \"{TestPlugins.SampleFolder}\"";

    [TestCase("1", true)]
    [TestCase("0", false)]
    public void OneTurnsTheLoopOnAndZeroOff(string value, bool on) => Assert.That(EpollLoop.SwitchOn(value), Is.EqualTo(on));

    [TestCase(null)]
    [TestCase("")]
    public void UnsetOrEmptyIsTheDefault(string? value) => Assert.That(EpollLoop.SwitchOn(value), Is.EqualTo(EpollLoop.OnByDefault));

    [TestCase("yes")]
    [TestCase("true")]
    [TestCase("off")]
    [TestCase(" 1")]
    public void AnyOtherValueIsAnErrorNamingTheVariableAndTheValue(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => EpollLoop.SwitchOn(value));
        Assert.That(error!.Message, Does.StartWith($"ROCKET_EPOLL={value}: expected 1"));
    }

    [Test]
    public void TheRocketCommandRefusesToStartWithABadValueAndSaysWhy()
    {
        var environment = new Dictionary<string, string> { ["ROCKET_EPOLL"] = "yes" };
        var (code, stdout, stderr) = RocketProcess.Run($"{Plugins} --method health --bind 127.0.0.1:0", environment: environment);
        Assert.That(code, Is.Not.Zero, stdout);
        Assert.That(stderr + stdout, Does.Contain("ROCKET_EPOLL=yes: expected 1 (Rocket's epoll loop) or 0 (the runtime's socket engine)"));
        Assert.That(stdout, Does.Not.Contain("Listening on"), "nothing was served");
    }

    [TestCase("0", false)]
    [TestCase("1", true)]
    [TestCase(null, null)]
    public void TheRocketCommandServesIdleConnectionsOnTheEngineTheSwitchChooses(string? value, bool? loop)
    {
        // Unset: the loop exactly when it is the default and the platform has it.
        var expected = loop ?? (EpollLoop.OnByDefault && EpollLoop.IsSupported);
        if (expected && !EpollLoop.IsSupported)
        {
            Assert.Ignore("The loop needs Linux on x86-64.");
        }

        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("Thread names are read from /proc.");
        }

        // The test process's own ROCKET_EPOLL (the CI's second pass sets it) must not decide the unset case.
        var environment = new Dictionary<string, string> { ["ROCKET_EPOLL"] = value ?? string.Empty };
        using var rocket = RocketProcess.Start($"{Plugins} --method health --bind 127.0.0.1:0", environment: environment);
        var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());
        using (var client = new RawClient(endPoint, timeoutMs: 20_000))
        {
            // The second request arrives while the connection waits idle: on the loop, if it serves this process, the
            // registration (and the loop's thread) exists by then.
            for (var i = 0; i < 2; i++)
            {
                client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            }
        }

        // The loop has no thread of its own to look for: its registrations (the listener's, at least) show it serves.
        var (onLoop, _) = EpollRegistrations.Count(rocket.Id);
        Assert.That(onLoop > 0, Is.EqualTo(expected), $"{onLoop} registrations with Rocket's loop");
        Assert.That(rocket.ThreadNames(), Has.None.EqualTo(EpollLoop.ThreadName).And.None.EqualTo(MonitorThread.Name), "the main thread runs both");
    }
}
