using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

public class DisconnectWatchTests
{
    [Test]
    public void RequestAbortedStaysQuietAcrossKeptAliveAsyncRequestsAndFiresWhenTheClientLaterCloses()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledEarly = 0;
        var worker = new LambdaWorker(async c =>
        {
            var token = c.RequestAborted;
            if (c.Request.Path == "/wait")
            {
                token.Register(() => aborted.TrySetResult());
                waiting.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(30), token).ContinueWith(_ => { });
                return;
            }

            // Asynchronous, so the core watches the socket while it runs; the watch outlives the request.
            await Task.Yield();
            if (token.IsCancellationRequested)
            {
                Interlocked.Increment(ref cancelledEarly);
            }

            c.Response.Write("ok"u8);
        });
        using var server = new TestServer(worker);
        var client = server.Connect();
        for (var i = 0; i < 5; i++)
        {
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            var response = client.ReadResponse();
            Assert.That(response.StatusCode, Is.EqualTo(200), $"request {i}");
        }

        client.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(waiting.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the last handler started");
        Assert.That(aborted.Task.IsCompleted, Is.False, "RequestAborted fired while the client was still there");
        client.Dispose();
        Assert.That(aborted.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "RequestAborted fired after the client closed");
        Assert.That(cancelledEarly, Is.Zero, "a kept-alive request saw RequestAborted cancelled");
    }
}
