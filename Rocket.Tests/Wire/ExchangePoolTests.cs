using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// The server's pooled request exchanges (~37 KB each): a burst of asynchronous requests fills the pool, and what no
/// request needs for a whole <see cref="ServerLimits.ThreadIdleTimeout"/> is given back, as a surplus worker thread is.
/// </summary>
public class ExchangePoolTests
{
    private const int Burst = 200;

    [Test]
    public void ExchangesLeftOverFromABurstOfAsynchronousRequestsAreDroppedAfterTheIdleTimeoutDownToSixtyFour()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new CountdownEvent(Burst);
        var limits = new ServerLimits { ThreadIdleTimeout = TimeSpan.FromSeconds(1) };
        using var server = new TestServer(new GatedWorker(gate.Task, entered), minThreads: 2, limits: limits);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < Burst; i++)
            {
                var client = server.Connect();
                clients.Add(client);
                client.Send($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            }

            // Every request holds its exchange while it waits: 200 at once.
            Assert.That(entered.Wait(TimeSpan.FromSeconds(30)), Is.True, $"requests in the handler: {Burst - entered.CurrentCount}");
            gate.SetResult();
            foreach (var client in clients)
            {
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            }

            // The connections stay open and idle; their exchanges went back to the pool.
            Assert.That(Wire.WaitUntil(() => server.Server.PooledExchangeCount >= 150, TimeSpan.FromSeconds(10)), Is.True, $"pooled after the burst: {server.Server.PooledExchangeCount}");
            Assert.That(Wire.WaitUntil(() => server.Server.PooledExchangeCount <= 64, TimeSpan.FromSeconds(20)), Is.True, $"pooled after idling: {server.Server.PooledExchangeCount}");

            // The server goes on serving those connections with what it kept.
            clients[0].Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(clients[0].ReadResponse().StatusCode, Is.EqualTo(200));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private sealed class GatedWorker(Task gate, CountdownEvent entered) : Worker
    {
        protected override async ValueTask HandleAsync(RequestContext context)
        {
            if (!entered.IsSet)
            {
                entered.Signal();
            }

            await gate.ConfigureAwait(false);
            context.Response.Write("ok"u8.ToArray());
        }
    }
}
