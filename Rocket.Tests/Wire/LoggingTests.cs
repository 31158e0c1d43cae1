using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>The Rocket.Requests line per request and the start-up line.</summary>
public class LoggingTests
{
    [Test]
    public void EachRequestLogsOneInfoLineInRocketsFormat()
    {
        TestLogging.Memory.Logs.Clear();
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("GET /logged?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        client.Send("HEAD /logged-head HTTP/1.0\r\n\r\n");
        client.ReadResponse(headRequest: true);

        Assert.That(Wire.WaitUntil(() => TestLogging.Memory.Logs.ToArray().Count(l => l.StartsWith("INFO Rocket.Requests")) == 2, TimeSpan.FromSeconds(10)), Is.True);
        var lines = TestLogging.Memory.Logs.ToArray().Where(l => l.StartsWith("INFO Rocket.Requests")).ToList();
        Assert.That(lines[0], Does.Match(@"^INFO Rocket\.Requests 127\.0\.0\.1 - ""GET /logged\?x=1 HTTP/1\.1"" - 200 13 \d+(\.\d+)? ms$"));
        Assert.That(lines[1], Does.Match(@"^INFO Rocket\.Requests 127\.0\.0\.1 - ""HEAD /logged-head HTTP/1\.0"" - 200 13 \d+(\.\d+)? ms$"));
    }

    [Test]
    public void RejectedRequestsAreLoggedWithTheirStatus()
    {
        TestLogging.Memory.Logs.Clear();
        using var server = new TestServer(Apps.Hello());
        Wire.Exchange(server, "GET /nohost HTTP/1.1\r\n\r\n");
        Assert.That(Wire.WaitUntil(() => TestLogging.Memory.Logs.ToArray().Any(l => l.StartsWith("INFO Rocket.Requests") && l.Contains("/nohost")), TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(TestLogging.Memory.Logs.ToArray().Single(l => l.StartsWith("INFO Rocket.Requests")), Does.Contain("\"GET /nohost HTTP/1.1\" - 400 0 "));
    }

    [Test]
    public void ARequestRefusedBeforeItsRequestLineWasParsedIsNotLoggedAsThePreviousRequestOnTheConnection()
    {
        TestLogging.Memory.Logs.Clear();
        using var server = new TestServer(Apps.Hello());
        using var client = server.Connect();
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponse();
        client.Send("G@T /second HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusLine, Does.Contain(" 400 "));

        Assert.That(Wire.WaitUntil(() => TestLogging.Memory.Logs.ToArray().Count(l => l.StartsWith("INFO Rocket.Requests")) == 2, TimeSpan.FromSeconds(10)), Is.True);
        var refused = TestLogging.Memory.Logs.ToArray().Where(l => l.StartsWith("INFO Rocket.Requests")).Last();
        Assert.That(refused, Does.Contain(" - 400 "));
        Assert.That(refused, Does.Not.Contain("/first"));
    }

    [Test]
    public void StartLogsTheAddressesItListensOn()
    {
        TestLogging.Memory.Logs.Clear();
        using var server = new TestServer(Apps.Hello());
        Assert.That(TestLogging.Memory.Logs.ToArray(), Has.Some.StartsWith($"INFO Rocket Listening on 127.0.0.1:{server.Port} "));
    }

    [Test]
    public void StopIsLogged()
    {
        var server = new TestServer(Apps.Hello());
        TestLogging.Memory.Logs.Clear();
        server.Dispose();
        Assert.That(TestLogging.Memory.Logs.ToArray(), Has.Some.EqualTo("INFO Rocket Stopped."));
    }
}
