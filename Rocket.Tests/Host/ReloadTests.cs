using System.Collections.Concurrent;
using System.Net;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Host;

/// <summary>
/// Live reload of the real rocket command (SIGUSR1, as systemd's ExecReload sends it): the config file is read
/// again and the owin plugin and app loaded again, under load, with no request lost and the old code unloaded.
/// </summary>
public class ReloadTests
{
    private static readonly string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [Test]
    public void TenReloadsUnderLoadSwitchToEachNewAppVersionWithoutLosingARequestAndUnloadTheOldOnes()
    {
        using var apps = new ReloadApps();
        apps.Configure(apps.WriteVersion(1));
        using var rocket = RocketProcess.Start($"--config \"{apps.ConfigFile}\"");
        var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());

        // Keep-alive clients in a loop: every request must be answered 200 by some version, never lower than one seen before.
        var latest = 1;
        var failures = new ConcurrentQueue<string>();
        var answered = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var client = new RawClient(endPoint);
            var seen = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    client.Send(Get);
                    var response = client.ReadResponse();
                    var version = response.BodyText.StartsWith("version ", StringComparison.Ordinal) ? int.Parse(response.BodyText[8..]) : -1;
                    if (response.StatusCode != 200 || version < seen)
                    {
                        failures.Enqueue($"{response.StatusLine} \"{response.BodyText}\" after version {seen}");
                    }

                    seen = Math.Max(seen, version);
                    InterlockedMax(ref latest, version);
                    Interlocked.Increment(ref answered);
                }
                catch (IOException e)
                {
                    failures.Enqueue(e.Message);
                    return;
                }
            }
        })).ToArray();

        for (var version = 2; version <= 11; version++)
        {
            apps.Configure(apps.WriteVersion(version));
            rocket.Signal("USR1");
            var expected = version;
            Assert.That(Wire.Wire.WaitUntil(() => Volatile.Read(ref latest) >= expected || !failures.IsEmpty, TimeSpan.FromSeconds(30)), Is.True, $"version {version} never answered.\n{rocket.Stdout}");
            Assert.That(failures, Is.Empty, rocket.Stdout);
        }

        var before = Volatile.Read(ref answered);
        Assert.That(Wire.Wire.WaitUntil(() => Volatile.Read(ref answered) > before + 100, TimeSpan.FromSeconds(30)), Is.True, "still serving after the reloads");
        stop.Cancel();
        Assert.That(Task.WaitAll(load, TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(failures, Is.Empty, rocket.Stdout);
        Assert.That(Volatile.Read(ref latest), Is.EqualTo(11));

        // Generation 1 was loaded at start (not collectible); generations 2..10 were reloaded ones, each retired and collected.
        Assert.That(rocket.WaitForOutput("retired and unloaded (its load context was collected)", 9, TimeSpan.FromSeconds(60)), Is.True, rocket.Stdout);
        Assert.That(rocket.Stdout, Does.Not.Contain("still referenced"));
        Assert.That(rocket.Stdout, Does.Contain("Reloaded (generation 11, method owin)."));
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
        TestContext.Out.WriteLine($"{answered} requests answered across 10 reloads.");
    }

    [Test]
    public void AFailedReloadKeepsTheOldAppServingAndSaysWhy()
    {
        using var apps = new ReloadApps();
        apps.Configure(apps.WriteVersion(1));
        using var rocket = RocketProcess.Start($"--config \"{apps.ConfigFile}\"");
        var endPoint = new IPEndPoint(IPAddress.Loopback, rocket.WaitForPort());
        using var client = new RawClient(endPoint);

        void AssertStillVersion1(string after)
        {
            client.Send(Get);
            var response = client.ReadResponse();
            Assert.That(response.StatusCode, Is.EqualTo(200), after);
            Assert.That(response.BodyText, Is.EqualTo("version 1"), after);
        }

        var failures = 0;
        void ReloadExpectingFailure(string because, string reason)
        {
            rocket.Signal("USR1");
            failures++;
            Assert.That(rocket.WaitForOutput("Reload failed; still serving generation 1", failures, TimeSpan.FromSeconds(30)), Is.True, rocket.Stdout);
            Assert.That(rocket.Stdout, Does.Contain(reason), because);
            AssertStillVersion1(because);
        }

        File.WriteAllText(apps.ConfigFile, "{ \"method\": \"owin\", ");
        ReloadExpectingFailure("a config file that is not JSON", "not valid JSON");

        apps.Configure(Path.Combine(apps.Folder, "nowhere", "App.dll"));
        ReloadExpectingFailure("an app DLL that does not exist", "does not exist");

        apps.Configure(apps.WriteVersion(2, startupThrows: true));
        ReloadExpectingFailure("a Startup that throws", "startup of version 2 broke");

        apps.Configure(apps.WriteVersion(3));
        rocket.Signal("USR1");
        Assert.That(rocket.WaitForOutput("Reloaded (generation 2, method owin).", 1, TimeSpan.FromSeconds(30)), Is.True, rocket.Stdout);
        client.Send(Get);
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("version 3"), "a good reload after failed ones");
        Assert.That(rocket.Terminate(), Is.Zero, rocket.Stderr);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
