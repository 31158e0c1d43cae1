using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>
/// Closing a socket registered with Rocket's loop without EPOLL_CTL_DEL (<see cref="EpollSocket.CloseWithSocket"/>) is safe:
/// even when close(2) leaves the registration in the epoll set (another reference to the open file, as a fork's child holds
/// for a moment), its edges reach neither the socket that reused its descriptor number nor the one that reused its slot.
/// </summary>
[Platform("Linux")]
public class EpollStaleEdgeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly Lazy<EpollLoop> Shared = new(() => new EpollLoop());

    [Test]
    public async Task AnEdgeOfAClosedRegistrationReachesNeitherTheSocketWithItsDescriptorNumberNorTheOneInItsSlot()
    {
        var loop = Shared.Value;
        var (oldClient, oldServer) = await ConnectedPairAsync();
        var (markerClient, markerServer) = await ConnectedPairAsync();
        using var listener = Listen();
        using var newClient = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await newClient.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound); // waits in the listen queue for now
        var marker = loop.Register(markerServer);
        var old = loop.Register(oldServer);
        var copy = Dup(old.Fd);
        Socket? newServer = null;
        EpollSocket? reused = null;
        try
        {
            Assert.That(copy, Is.GreaterThanOrEqualTo(0));
            old.CloseWithSocket();
            oldServer.Dispose(); // the descriptor number is free; the open file (and its registration) lives on in the copy

            newServer = listener.Accept(); // the lowest free number: the old socket's
            Assert.That((int)newServer.SafeHandle.DangerousGetHandle(), Is.EqualTo(old.Fd), "the accepted socket did not reuse the closed descriptor number");
            reused = loop.Register(newServer);
            Assert.That((uint)reused.Key, Is.EqualTo((uint)old.Key), "the new registration did not reuse the closed one's slot");
            Assert.That(reused.Key, Is.Not.EqualTo(old.Key));

            var woken = 0;
            Assert.That(reused.TryWait(() => Interlocked.Increment(ref woken)), Is.False, "a socket nobody wrote to was readable");

            // The old file gets bytes: its registration (old key) reports an edge. The marker's edge comes after it in the same
            // ready list, so once the marker is woken the old edge has been handled.
            oldClient.Send("stale"u8);
            markerClient.Send("x"u8);
            await marker.WaitAsync().AsTask().WaitAsync(Bound);

            Assert.That(Volatile.Read(ref woken), Is.Zero, "an edge of the closed registration woke the socket that reused its number and slot");
            Assert.That(reused.Edges, Is.Zero);

            newClient.Send("fresh"u8);
            var deadline = DateTime.UtcNow + Bound;
            while (Volatile.Read(ref woken) == 0)
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the new socket's own edge never came");
                await Task.Delay(10);
            }

            Assert.That(reused.Edges, Is.EqualTo(1));
        }
        finally
        {
            reused?.CloseWithSocket();
            newServer?.Dispose();
            marker.CloseWithSocket();
            markerServer.Dispose();
            markerClient.Dispose();
            oldClient.Dispose();
            if (copy >= 0)
            {
                _ = Close(copy);
            }
        }
    }

    [DllImport("libc", EntryPoint = "dup")]
    private static extern int Dup(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        return listener;
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound);
        var server = await listener.AcceptAsync().WaitAsync(Bound);
        return (client, server);
    }
}
