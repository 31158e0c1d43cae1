using System.Net;
using System.Net.Sockets;
using RocketOwin.Tests.Support;

namespace RocketOwin.Tests.Wire;

/// <summary>
/// Accepting through the socket engine: a listen queue full of connections is taken in rounds (a bounded number of
/// accepts at a time, the rest from the monitor thread). SocketActivationTests check that Stop leaves a socket Rocket was
/// given listening.
/// </summary>
public class AcceptTests
{
    /// <summary>More than the listener accepts in one round (32), so the rest are taken after it yields.</summary>
    private const int Queued = 100;

    private const string Get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    [OneTimeSetUp]
    public void Logging() => TestLogging.EnsureConfigured();

    [Test]
    public void EveryConnectionAlreadyWaitingInTheListenQueueAtStartIsServed()
    {
        var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(Queued * 2);
        var endPoint = (IPEndPoint)listening.LocalEndPoint!;
        var clients = new List<RawClient>();
        try
        {
            // Connected and their requests sent before anything accepts: every accept at Start completes at once.
            for (var i = 0; i < Queued; i++)
            {
                var client = new RawClient(endPoint);
                clients.Add(client);
                client.Send(Get);
            }

            using var server = new TestServer(Apps.Hello(), interfaces: [ListenInterface.FromListeningSocket(listening)]);
            foreach (var client in clients)
            {
                Assert.That(client.ReadResponse().StatusCode, Is.EqualTo(200));
            }

            using var later = new RawClient(endPoint);
            later.Send(Get);
            Assert.That(later.ReadResponse().StatusCode, Is.EqualTo(200), "accepting goes on after the queue was emptied");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            listening.Dispose();
        }
    }
}
