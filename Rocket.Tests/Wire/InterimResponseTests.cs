using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>Interim (1xx) responses a handler sends ahead of the final one (<see cref="Response.SendInterimAsync"/>).</summary>
public class InterimResponseTests
{
    private static readonly KeyValuePair<string, string>[] Preload = [new("Link", "</style.css>; rel=preload; as=style")];

    /// <summary>Sends a 103 with a Link, records what the call returned, then answers 200 "final".</summary>
    private static LambdaWorker EarlyHints(List<bool> sent) => new(async c =>
    {
        var result = await c.Response.SendInterimAsync(103, Preload);
        lock (sent)
        {
            sent.Add(result);
        }

        await c.Response.WriteAsync("final"u8.ToArray());
    });

    [Test]
    public void AnHttp11ClientSeesThe103WithItsLinkThenTheFinalResponse()
    {
        var sent = new List<bool>();
        using var server = new TestServer(EarlyHints(sent));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var hints = client.ReadResponse();
        Assert.That(hints.StatusLine, Is.EqualTo("HTTP/1.1 103 Early Hints"));
        Assert.That(hints.Headers, Is.EqualTo(Preload), "exactly the fields given: no Date, Server or framing fields");
        var final = client.ReadResponse();
        Assert.That(final.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(final.BodyText, Is.EqualTo("final"));
        Assert.That(sent, Is.EqualTo(new[] { true }));

        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(103), "the connection stays in step for the next request");
        Assert.That(client.ReadResponse().BodyText, Is.EqualTo("final"));
    }

    [Test]
    public void AnHttp10ClientIsNotSentTheInterimResponse()
    {
        var sent = new List<bool>();
        using var server = new TestServer(EarlyHints(sent));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.0\r\n\r\n");
        var text = Encoding.Latin1.GetString(client.ReadToEnd());
        Assert.That(text, Does.StartWith("HTTP/1.1 200 OK\r\n"));
        Assert.That(text, Does.Not.Contain("103"));
        Assert.That(text, Does.EndWith("\r\n\r\nfinal"));
        Assert.That(sent, Is.EqualTo(new[] { false }));
    }

    [TestCase(100)]
    [TestCase(101)]
    [TestCase(200)]
    [TestCase(99)]
    public void AStatusOutside102To199IsRefusedAndTheResponseStillGoesOut(int status)
    {
        Exception? refused = null;
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            refused = Assert.CatchAsync(async () => await c.Response.SendInterimAsync(status, null));
            await c.Response.WriteAsync("final"u8.ToArray());
        }));
        var response = Wire.Exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"));
        Assert.That(response.BodyText, Is.EqualTo("final"));
        Assert.That(refused, Is.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void AnInterimResponseAfterTheResponseStartedOrWithABadFieldIsRefusedAndNothingOfItIsSent()
    {
        Exception? badName = null;
        Exception? badValue = null;
        Exception? late = null;
        using var server = new TestServer(new LambdaWorker(async c =>
        {
            badName = Assert.CatchAsync(async () => await c.Response.SendInterimAsync(103, [new("Bad Name", "x")]));
            badValue = Assert.CatchAsync(async () => await c.Response.SendInterimAsync(103, [new("Link", "a\r\nX-Injected: 1")]));
            await c.Response.WriteAsync("part"u8.ToArray());
            await c.Response.FlushAsync();
            late = Assert.CatchAsync(async () => await c.Response.SendInterimAsync(103, Preload));
        }));
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponse();
        Assert.That(response.StatusLine, Is.EqualTo("HTTP/1.1 200 OK"), "no interim head went out before it");
        Assert.That(response.BodyText, Is.EqualTo("part"));
        Assert.That(response.Header("X-Injected"), Is.Null);
        Assert.That(badName, Is.TypeOf<ArgumentException>());
        Assert.That(badValue, Is.TypeOf<ArgumentException>());
        Assert.That(late, Is.TypeOf<InvalidOperationException>());
    }
}
