using System.Text;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

public class UpgradeAndAbortTests
{
    [Test]
    public void UpgradedConnectionCarriesRawBytesBothWaysIncludingBytesSentWithTheHead()
    {
        var echo = new LambdaWorker(c => Apps.EchoUpgradeAsync(c, "echo"));
        using var server = new TestServer(echo);
        using var client = server.Connect();
        client.Send("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly");
        Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
        var headers = new List<string>();
        string? line;
        while (!string.IsNullOrEmpty(line = client.ReadLine()))
        {
            headers.Add(line);
        }

        Assert.That(headers, Does.Contain("Upgrade: echo"));
        Assert.That(headers, Does.Contain("Connection: Upgrade"));
        Assert.That(headers.Any(h => h.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase) || h.StartsWith("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)), Is.False);
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(5)), Is.EqualTo("early"));
        client.Send("ping");
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(4)), Is.EqualTo("ping"));
    }

    [Test]
    public void UpgradeWithoutAnUpgradeRequestFailsWith500()
    {
        var worker = new LambdaWorker(async c => await c.UpgradeAsync());
        using var server = new TestServer(worker);
        using var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(500));
    }

    [Test]
    public void RequestAbortedFiresWhenTheClientClosesWhileAnAsyncHandlerWaits()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = new LambdaWorker(async c =>
        {
            var token = c.RequestAborted;
            token.Register(() => aborted.TrySetResult());
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), token).ContinueWith(_ => { });
        });
        using var server = new TestServer(worker);
        var client = server.Connect();
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(started.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "handler started");
        client.Dispose();
        Assert.That(aborted.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "RequestAborted fired after the client closed");
    }
}
