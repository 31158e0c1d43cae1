using System.Net;
using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Start, Stop, and the messages of every way Start or the constructor can refuse.</summary>
public class LifecycleTests
{
    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    private static Rocket Create(ListenInterface where, string method = "lifecycle-hello", int minThreads = 2, int maxThreads = 0, int timeout = 600)
        => new(where, method, null, minThreads, maxThreads, timeout: timeout, handleSignals: false);

    [OneTimeSetUp]
    public void Register()
    {
        TestLogging.EnsureConfigured();
        Rocket.RegisterMethod("lifecycle-hello", Apps.Hello);
    }

    [OneTimeTearDown]
    public void Unregister() => Rocket.UnregisterMethod("lifecycle-hello");

    [Test]
    public void StopLetsARequestInFlightFinishClosesIdleConnectionsAndIsSafeTwice()
    {
        var entered = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var server = new TestServer(Apps.SlowPath(entered, release, _ => "finished"u8.ToArray()));
        var endPoint = server.EndPoint;
        using var idle = server.Connect();
        idle.Send(Get);
        idle.ReadResponse();
        using var busy = server.Connect();
        busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);

        var stopping = Task.Run(server.Server.Stop);
        Assert.That(Wire.WaitUntil(() => !server.Server.IsRunning, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(Wire.ServerClosed(idle), Is.True, "the idle connection is closed after ShutdownIdleGrace");
        Assert.That(stopping.IsCompleted, Is.False, "Stop waits for the request in flight");
        Assert.Throws<SocketException>(() => new RawClient(endPoint).Dispose(), "no longer accepting");

        release.Set();
        var response = busy.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("finished"));
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(15)), Is.True);
        Assert.That(Wire.ServerClosed(busy), Is.True);
        Assert.That(server.Server.ThreadCount, Is.Zero);

        server.Server.Stop();
        server.Dispose();
    }

    [Test]
    public void StopEndsARequestThatOutlastsTheShutdownTimeout()
    {
        var entered = new ManualResetEventSlim();
        var aborted = new ManualResetEventSlim();
        var server = new TestServer(
            new LambdaWorker(async c =>
            {
                entered.Set();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), c.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    aborted.Set();
                    throw;
                }
            }),
            limits: new ServerLimits { ShutdownTimeout = TimeSpan.FromMilliseconds(200) });
        using var client = server.Connect();
        client.Send(Get);
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);
        var stopping = Task.Run(server.Dispose);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(15)), Is.True, "Stop is bounded by the shutdown timeout");
        Assert.That(aborted.Wait(TimeSpan.FromSeconds(10)), Is.True, "RequestAborted fired");
        Assert.That(Wire.ServerClosed(client), Is.True);
    }

    [Test]
    public void StopBeforeStartAndDisposeAfterStopDoNothing()
    {
        var rocket = Create(("127.0.0.1", 0));
        rocket.Stop();
        rocket.Start(background: true);
        rocket.Stop();
        rocket.Dispose();
        Assert.That(rocket.IsRunning, Is.False);
    }

    [Test]
    public void StartingTwiceIsRefused()
    {
        using var rocket = Create(("127.0.0.1", 0));
        rocket.Start(background: true);
        var e = Assert.Throws<InvalidOperationException>(() => rocket.Start(background: true))!;
        Assert.That(e.Message, Does.Contain("already been started"));
    }

    [Test]
    public void ForegroundStartReturnsWhenStoppedFromAnotherThread()
    {
        using var rocket = Create(("127.0.0.1", 0));
        var running = Task.Run(() => rocket.Start());
        Assert.That(Wire.WaitUntil(() => rocket.IsRunning, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(running.IsCompleted, Is.False, "Start(background: false) blocks while serving");
        rocket.Stop();
        Assert.That(running.Wait(TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public void StartFailsNamingTheAddressAndPortWhenThePortIsInUse()
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port;
            using var rocket = Create(("127.0.0.1", port));
            var e = Assert.Throws<InvalidOperationException>(() => rocket.Start(background: true))!;
            Assert.That(e.Message, Does.Contain($"127.0.0.1:{port}").And.Contain("in use"));
            Assert.That(rocket.IsRunning, Is.False);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Test]
    public void StartThatFailsOnTheSecondInterfaceReleasesTheFirst()
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var freePort = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        try
        {
            using var rocket = new Rocket([("127.0.0.1", freePort), ("127.0.0.1", ((IPEndPoint)taken.LocalEndpoint).Port)], "lifecycle-hello", handleSignals: false);
            Assert.Throws<InvalidOperationException>(() => rocket.Start(background: true));
            var again = new TcpListener(IPAddress.Loopback, freePort);
            Assert.DoesNotThrow(again.Start, "the first interface's socket was closed");
            again.Stop();
        }
        finally
        {
            taken.Stop();
        }
    }

    [Test]
    public void StartFailsNamingAnUnknownMethod()
    {
        using var rocket = Create(("127.0.0.1", 0), method: "no-such-method");
        var e = Assert.Throws<InvalidOperationException>(() => rocket.Start(background: true))!;
        Assert.That(e.Message, Does.Contain("'no-such-method'").And.Contain("lifecycle-hello"));
    }

    [Test]
    public void StartFailsWithTheWorkersMessageWhenItRefusesItsAppInfo()
    {
        Rocket.RegisterMethod("lifecycle-picky", () => new PickyWorker());
        try
        {
            using var rocket = new Rocket(("127.0.0.1", 0), "lifecycle-picky", new AppInfo { ["level"] = "high" }, handleSignals: false);
            var e = Assert.Throws<ArgumentException>(() => rocket.Start(background: true))!;
            Assert.That(e.Message, Does.Contain("level").And.Contain("\"high\""));
            Assert.That(rocket.IsRunning, Is.False);
        }
        finally
        {
            Rocket.UnregisterMethod("lifecycle-picky");
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public void StartFailsNamingAMissingKeyOrCertificateFile(bool keyMissing)
    {
        var dir = Directory.CreateTempSubdirectory("rocket-missing-");
        try
        {
            var key = Path.Combine(dir.FullName, "key.pem");
            var cert = Path.Combine(dir.FullName, "cert.pem");
            File.WriteAllText(keyMissing ? cert : key, "not used");
            using var rocket = Create(("127.0.0.1", 0, key, cert));
            var e = Assert.Catch(() => rocket.Start(background: true))!;
            Assert.That(e.Message, Does.Contain(keyMissing ? key : cert).And.Contain("does not exist"));
            Assert.That(rocket.IsRunning, Is.False);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void StartFailsNamingUnreadableKeyMaterial()
    {
        var dir = Directory.CreateTempSubdirectory("rocket-bad-");
        try
        {
            var key = Path.Combine(dir.FullName, "key.pem");
            var cert = Path.Combine(dir.FullName, "cert.pem");
            File.WriteAllText(key, "garbage");
            File.WriteAllText(cert, "garbage");
            using var rocket = Create(("127.0.0.1", 0, key, cert));
            var e = Assert.Throws<InvalidOperationException>(() => rocket.Start(background: true))!;
            Assert.That(e.Message, Does.Contain(key).And.Contain(cert));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void ConstructorRefusesMinThreadsBelowOne(int minThreads)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Create(("127.0.0.1", 0), minThreads: minThreads))!;
        Assert.That(e.Message, Does.Contain("minThreads").And.Contain($"got {minThreads}"));
    }

    [Test]
    public void ConstructorRefusesMaxThreadsBelowMinThreadsNamingBoth()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Create(("127.0.0.1", 0), minThreads: 4, maxThreads: 3))!;
        Assert.That(e.Message, Does.Contain("maxThreads").And.Contain("minThreads (4)").And.Contain("maxThreads 3"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(("127.0.0.1", 0), maxThreads: -1));
        Assert.DoesNotThrow(() => Create(("127.0.0.1", 0), minThreads: 4, maxThreads: 4));
        Assert.DoesNotThrow(() => Create(("127.0.0.1", 0), minThreads: 4, maxThreads: 0));
    }

    [Test]
    public void ConstructorRefusesANegativeTimeout()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Create(("127.0.0.1", 0), timeout: -1))!;
        Assert.That(e.Message, Does.Contain("timeout").And.Contain("-1"));
    }

    [Test]
    public void ConstructorValidatesItsOtherArguments()
    {
        Assert.Throws<ArgumentNullException>(() => _ = new Rocket((ListenInterface)null!, "m"));
        Assert.Throws<ArgumentNullException>(() => _ = new Rocket((IEnumerable<ListenInterface>)null!, "m"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Rocket([], "m"))!.Message, Does.Contain("interfaces"));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Rocket(("127.0.0.1", 0), " "))!.Message, Does.Contain("method"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Rocket(("127.0.0.1", 0), "m", queueSize: 0))!.Message, Does.Contain("queueSize").And.Contain("got 0"));
        var ok = new Rocket(("127.0.0.1", 0), "m", queueSize: 16, timeout: 0);
        Assert.That(ok.IsRunning, Is.False);
        Assert.That(ok.BoundEndPoints, Is.Empty);
        Assert.That(ok.AppInfo, Is.Empty);
        Assert.That(ok.Limits.MaxRequestLineLength, Is.EqualTo(8192));
    }

    [Test]
    public void ServerListensOnIPv6Loopback()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Ignore("IPv6 is not available on this machine.");
        }

        using var server = new TestServer(Apps.Hello(), interfaces: [("::1", 0)]);
        Assert.That(server.EndPoint.Address, Is.EqualTo(IPAddress.IPv6Loopback));
        using var client = new RawClient(server.EndPoint);
        client.Send("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void ServerListensOnSeveralInterfacesAtOnce()
    {
        using var server = new TestServer(Apps.Hello(), interfaces: [("127.0.0.1", 0), ("127.0.0.1", 0)]);
        Assert.That(server.Server.BoundEndPoints, Has.Count.EqualTo(2));
        foreach (var endPoint in server.Server.BoundEndPoints)
        {
            using var client = new RawClient(endPoint);
            client.Send(Get);
            Assert.That(client.ReadResponse().StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        }
    }

    [Test]
    public void WorkerSeesItsAppInfoLimitsAndMethodNameAndIsShutDownOnStop()
    {
        var worker = new PickyWorker();
        var server = new TestServer(worker, appInfo: new AppInfo { ["level"] = "3" });
        Assert.That(worker.Level, Is.EqualTo(3));
        Assert.That(worker.SeenMethod, Does.StartWith("test-"));
        Assert.That(worker.SeenLineLimit, Is.EqualTo(8192));
        Assert.That(worker.ShutDown, Is.False);
        server.Dispose();
        Assert.That(worker.ShutDown, Is.True);
    }

    [Test]
    public void WorkerSeesTheInterfacesWithThePortsReallyBoundWhenItInitializes()
    {
        var worker = new PickyWorker();
        using var server = new TestServer(worker, interfaces: [("127.0.0.1", 0), ("0.0.0.0", 0)]);
        Assert.That(worker.SeenInterfaces, Has.Count.EqualTo(2));
        Assert.That(worker.SeenInterfaces!.Select(i => i.Address), Is.EqualTo(new[] { "127.0.0.1", "0.0.0.0" }));
        Assert.That(worker.SeenInterfaces!.Select(i => i.Port), Is.EqualTo(server.Server.BoundEndPoints.Select(e => e.Port)));
        Assert.That(worker.SeenInterfaces!.Select(i => i.Port), Has.All.Not.Zero);
    }

    [Test]
    public void AWorkerThatFailsToInitializeLeavesThePortFreeAndIsNotShutDown()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var worker = new PickyWorker();
        Rocket.RegisterMethod("lifecycle-picky", () => worker);
        try
        {
            using var server = new Rocket(("127.0.0.1", port), "lifecycle-picky", new AppInfo { ["level"] = "9" }, minThreads: 2, handleSignals: false);
            var e = Assert.Catch<ArgumentException>(() => server.Start(background: true))!;
            Assert.That(e.Message, Does.Contain("level"));
            Assert.That(worker.ShutDown, Is.False);

            // The socket bound for Initialize was released: the port can be listened on again at once.
            using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Assert.DoesNotThrow(() => again.Bind(new IPEndPoint(IPAddress.Loopback, port)));
        }
        finally
        {
            Rocket.UnregisterMethod("lifecycle-picky");
        }
    }

    private sealed class PickyWorker : Worker
    {
        public long Level { get; private set; }

        public string? SeenMethod { get; private set; }

        public int SeenLineLimit { get; private set; }

        public bool ShutDown { get; private set; }

        public IReadOnlyList<ListenInterface>? SeenInterfaces { get; private set; }

        protected override void Initialize()
        {
            SeenInterfaces = Interfaces;
            Level = AppInfo.GetInt64("level", 1, min: 1, max: 5);
            SeenMethod = MethodName;
            SeenLineLimit = Limits.MaxRequestLineLength;
        }

        protected override ValueTask HandleAsync(RequestContext context) => ValueTask.CompletedTask;

        protected override void Shutdown() => ShutDown = true;
    }
}
