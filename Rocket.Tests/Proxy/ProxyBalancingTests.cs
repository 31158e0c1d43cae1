using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Proxy;

public class ProxyBalancingTests
{
    private static LambdaWorker Named(string name) => new(c =>
    {
        c.Response.Write(System.Text.Encoding.ASCII.GetBytes(name));
        return ValueTask.CompletedTask;
    });

    private static string Get(RawClient client, string method = "GET")
    {
        client.Send(method == "GET"
            ? "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            : $"{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        var response = client.ReadResponse();
        return response.StatusCode == 200 ? response.BodyText : response.StatusCode.ToString();
    }

    [Test]
    public void RoundRobinTakesEachUpstreamInTurn()
    {
        using var a = new TestServer(Named("a"));
        using var b = new TestServer(Named("b"));
        using var proxy = ProxyServer.Start($"{a.Url()}, {b.Url()}");
        using var client = proxy.Connect();
        var answers = Enumerable.Range(0, 6).Select(_ => Get(client)).ToArray();
        Assert.That(answers, Is.EqualTo(new[] { "a", "b", "a", "b", "a", "b" }));
    }

    [Test]
    public void LeastRequestsAvoidsTheUpstreamStillBusy()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowA = new LambdaWorker(async c =>
        {
            if (c.Request.Path == "/slow")
            {
                busy.TrySetResult();
                await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }

            c.Response.Write("a"u8);
        });
        using var a = new TestServer(slowA);
        using var b = new TestServer(Named("b"));
        using var proxy = ProxyServer.Start($"{a.Url()},{b.Url()}", ("balance", "least_requests"));
        using var slowClient = proxy.Connect();
        try
        {
            slowClient.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(busy.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the first request went to a");
            using var client = proxy.Connect();
            var answers = Enumerable.Range(0, 4).Select(_ => Get(client)).ToArray();
            Assert.That(answers, Is.EqualTo(new[] { "b", "b", "b", "b" }));
        }
        finally
        {
            release.TrySetResult();
        }

        Assert.That(slowClient.ReadResponse().BodyText, Is.EqualTo("a"));
    }

    [Test]
    public void RefusedUpstreamIsRetriedOnceOnAnotherForAnIdempotentRequest()
    {
        using var live = new TestServer(Named("live"));
        using var proxy = ProxyServer.Start($"{ProxyServer.RefusedUrl()},{live.Url()}", ("fail_timeout", 0));
        using var client = proxy.Connect();
        var answers = Enumerable.Range(0, 4).Select(_ => Get(client)).ToArray();
        Assert.That(answers, Is.EqualTo(new[] { "live", "live", "live", "live" }));
    }

    [Test]
    public void PostToARefusedUpstreamIsNotRetriedButTheUpstreamIsLeftOut()
    {
        using var live = new TestServer(Named("live"));
        using var proxy = ProxyServer.Start($"{ProxyServer.RefusedUrl()},{live.Url()}", ("fail_timeout", 60));
        using var client = proxy.Connect();
        var answers = Enumerable.Range(0, 4).Select(_ => Get(client, "POST")).ToArray();
        Assert.That(answers, Is.EqualTo(new[] { "502", "live", "live", "live" }));
    }

    [Test]
    public void UpstreamThatTimedOutIsLeftOutForFailTimeout()
    {
        using var silent = new RawUpstream((s, _) => RawUpstream.WaitForCloseAsync(s));
        using var live = new TestServer(Named("live"));
        using var proxy = ProxyServer.Start($"{silent.Url},{live.Url()}", ("upstream_timeout", "0.5"), ("fail_timeout", 60));
        using var client = proxy.Connect();
        var answers = Enumerable.Range(0, 5).Select(_ => Get(client)).ToArray();
        Assert.That(answers, Is.EqualTo(new[] { "504", "live", "live", "live", "live" }));
        Assert.That(silent.Connections, Is.EqualTo(1));
    }
}
