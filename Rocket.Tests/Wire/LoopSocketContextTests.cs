using System.Net.Sockets;
using System.Reflection;
using System.Text;
using RocketOwin.Internal;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// With Rocket's epoll loop (ROCKET_EPOLL=1) a plain connection's blocking receives and sends (heads, bodies, large
/// responses) and an upgraded connection's reads and writes are recv/send on the descriptor: no socket gets the runtime's
/// SocketAsyncContext (152 B, and what hangs off it, for as long as the connection is open). With the runtime's engine every
/// socket has one. The census reads the runtime's own field for it (SafeSocketHandle._asyncContext, made on first use) on
/// every connection the server holds open; this class runs in both passes of the test command, one per engine.
/// </summary>
[Platform("Linux")]
public sealed class LoopSocketContextTests
{
    private const int Connections = 16;
    private const int BodyLength = 200 * 1024;
    private const int ResponseLength = 512 * 1024;

    [Test]
    public void OnTheEpollLoopNoOpenConnectionHoldsARuntimeSocketContextAfterBodiesLargeResponsesAndUpgradesAndWithTheRuntimesEngineEachDoes()
    {
        var contextField = typeof(SafeSocketHandle).GetField("_asyncContext", BindingFlags.Instance | BindingFlags.NonPublic);
        Assert.That(contextField, Is.Not.Null, "the runtime's SafeSocketHandle has no _asyncContext field any more: the census needs another way to look");
        var big = Enumerable.Range(0, ResponseLength).Select(i => (byte)(i % 251)).ToArray();
        var worker = new LambdaWorker(async c =>
        {
            if (c.Request.Target == "/upgrade")
            {
                await Apps.EchoUpgradeAsync(c, "echo");
                return;
            }

            // Synchronous on the worker's thread: the body's receives and the response's sends block.
            var body = new MemoryStream();
            c.RequestBody.CopyTo(body);
            c.Response.Headers.ContentType = "application/octet-stream";
            c.Response.Headers.Set("X-Body-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            c.Response.Write(big);
        });
        using var server = new TestServer(worker, minThreads: 4);
        var clients = new List<RawClient>();
        try
        {
            var body = new byte[BodyLength];
            for (var i = 0; i < Connections; i++)
            {
                var client = server.Connect();
                clients.Add(client);
                client.Send($"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: {BodyLength}\r\n\r\n");
                client.Send(body.AsSpan(0, BodyLength / 2).ToArray());
                Thread.Sleep(5); // the rest arrives after the worker found the socket empty: its receive waits
                client.Send(body.AsSpan(BodyLength / 2).ToArray());
                var response = client.ReadResponse();
                Assert.That(response.Header("X-Body-Length"), Is.EqualTo(BodyLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                Assert.That(response.Body, Is.EqualTo(big));
            }

            for (var i = 0; i < Connections; i++)
            {
                var client = server.Connect();
                clients.Add(client);
                client.Send("GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
                Assert.That(client.ReadLine(), Is.EqualTo("HTTP/1.1 101 Switching Protocols"));
                while (!string.IsNullOrEmpty(client.ReadLine()))
                {
                }

                client.Send("ping");
                Assert.That(Encoding.ASCII.GetString(client.ReadExactly(4)), Is.EqualTo("ping"));
            }

            var open = 0;
            var withContext = 0;
            server.Server.ForEachConnection(c =>
            {
                open++;
                if (contextField!.GetValue(c.Socket.SafeHandle) is not null)
                {
                    withContext++;
                }
            });

            Assert.That(open, Is.EqualTo(2 * Connections), "connections open (keep-alive and upgraded)");
            if (EpollLoop.Instance is not null)
            {
                Assert.That(withContext, Is.Zero, $"ROCKET_EPOLL=1: connections holding the runtime's SocketAsyncContext, of {open}");
            }
            else
            {
                // The control: the census sees the runtime's contexts where they are made.
                Assert.That(withContext, Is.EqualTo(open), "the runtime's engine: connections holding its SocketAsyncContext");
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
