using System.Diagnostics.Metrics;
using System.Net;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>The Rocket Meter as dotnet-counters and OpenTelemetry see it, and the status page of an embedded Rocket.</summary>
[TestFixture]
public sealed class MetricsTests
{
    [Test]
    public void AnyMeterListenerSeesTheRocketMeterCountRequests()
    {
        using var server = new TestServer(Apps.Hello());
        var seen = new HashSet<string>();
        using var listener = new MeterListener();
        long twoHundreds = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Rocket")
            {
                seen.Add(instrument.Name);
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "rocket.requests" && tags.ToArray().Any(t => t.Value as string == "2xx"))
            {
                twoHundreds += value;
            }
        });
        listener.Start();

        listener.RecordObservableInstruments();
        var before = Interlocked.Exchange(ref twoHundreds, 0);
        for (var i = 0; i < 3; i++)
        {
            using var client = server.Connect();
            client.Send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
        }

        listener.RecordObservableInstruments();
        Assert.That(twoHundreds - before, Is.GreaterThanOrEqualTo(3), "every Rocket in the process publishes a Meter named Rocket");
        Assert.That(seen, Is.SupersetOf(new[] { "rocket.threads", "rocket.threads.max", "rocket.queue.length", "rocket.connections", "rocket.requests", "rocket.response.body.size", "rocket.rejections", "rocket.uptime", "rocket.info" }));
    }

    [Test]
    public void EmbeddedRocketServesItsStatusPageOnItsOwnListener()
    {
        TestLogging.EnsureConfigured();
        Rocket.RegisterMethod("status-embedded", Apps.Hello);
        try
        {
            using var server = new Rocket(("127.0.0.1", 0), "status-embedded", handleSignals: false) { StatusInterface = ("127.0.0.1", 0) };
            Assert.That(server.StatusEndPoint, Is.Null, "nothing listens before Start");
            server.Start(background: true);
            var status = server.StatusEndPoint!;
            Assert.That(status.Port, Is.Not.EqualTo(server.BoundEndPoints[0].Port));

            using (var client = new RawClient(server.BoundEndPoints[0]))
            {
                client.Send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            }

            Assert.That(Get(status, "GET /json HTTP/1.1").BodyText, Does.Contain("\"2xx\": 1"), "the status page's own requests are not counted");
            Assert.That(Get(status, "GET /json HTTP/1.1").BodyText, Does.Contain("\"2xx\": 1"));
            Assert.That(Get(status, "GET /nothing HTTP/1.1").StatusCode, Is.EqualTo(404));
            var post = Get(status, "POST / HTTP/1.1");
            Assert.That(post.StatusCode, Is.EqualTo(405));
            Assert.That(post.Header("Allow"), Is.EqualTo("GET, HEAD"));

            server.Stop();
            Assert.Throws<System.Net.Sockets.SocketException>(() => new RawClient(status).Dispose(), "the status listener stops with the server");
        }
        finally
        {
            Rocket.UnregisterMethod("status-embedded");
        }
    }

    [Test]
    public void AStatusPortInUseFailsStartNamingTheStatusAndLeavesNothingListening()
    {
        Rocket.RegisterMethod("status-taken", Apps.Hello);
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            using var server = new Rocket(("127.0.0.1", 0), "status-taken", handleSignals: false) { StatusInterface = ("127.0.0.1", ((IPEndPoint)taken.LocalEndpoint).Port) };
            var e = Assert.Throws<InvalidOperationException>(() => server.Start(background: true))!;
            Assert.That(e.Message, Does.StartWith("status: cannot listen on 127.0.0.1:").And.Contain("in use"));
            Assert.That(server.IsRunning, Is.False);
        }
        finally
        {
            Rocket.UnregisterMethod("status-taken");
        }
    }

    private static RawResponse Get(IPEndPoint endPoint, string requestLine)
    {
        using var client = new RawClient(endPoint);
        client.Send(requestLine + "\r\nHost: s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return client.ReadResponse();
    }
}
