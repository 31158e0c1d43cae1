using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>
/// Accepts on Rocket's loop (AcceptedSocket): the Socket made through the runtime's internal accept route is the Socket the
/// public constructor makes from the same kind of descriptor (end points, state, mode, and it carries bytes both ways), for
/// IPv4 and for a dual-mode IPv6 listener; a runtime without that route fails the binding with the exception the fallback
/// catches; an empty queue is EAGAIN, not an exception.
/// </summary>
[Platform("Linux")]
public class AcceptedSocketTests
{
    [TestCase("127.0.0.1", "127.0.0.1")]
    [TestCase("::", "127.0.0.1")]
    [TestCase("::1", "::1")]
    public void TheRuntimesAcceptRouteAndThePublicConstructorMakeTheSameConnectedSocket(string listenOn, string connectTo)
    {
        using var listener = Listen(IPAddress.Parse(listenOn));
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        var target = new IPEndPoint(IPAddress.Parse(connectTo), bound.Port);
        using var viaRuntime = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var viaConstructor = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        viaRuntime.Connect(target);
        viaConstructor.Connect(target);

        using var cheap = AcceptedSocket.Accept(listener, bound, out var errno)!;
        Assert.That(cheap, Is.Not.Null, $"accept4 failed: errno {errno}");
        Assert.That(AcceptedSocket.UsesPublicConstructor, Is.False, "this runtime has no Socket.CreateAcceptSocket: every accept on the loop costs 7 more system calls");
        using var dear = AcceptBy(listener, publicConstructor: true);

        foreach (var (accepted, client) in new[] { (cheap, viaRuntime), (dear, viaConstructor) })
        {
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(Normalized(client.LocalEndPoint!, listener)));
            Assert.That(accepted.LocalEndPoint, Is.EqualTo(Normalized(client.RemoteEndPoint!, listener)));
            Assert.That(accepted.Connected, Is.True);
            Assert.That(accepted.Blocking, Is.True);
            Assert.That(accepted.AddressFamily, Is.EqualTo(listener.AddressFamily));
            Assert.That(accepted.SocketType, Is.EqualTo(SocketType.Stream));
            Assert.That(accepted.ProtocolType, Is.EqualTo(ProtocolType.Tcp));

            accepted.NoDelay = true;
            accepted.ReceiveTimeout = 10_000;
            client.ReceiveTimeout = 10_000;
            client.Send("ping"u8);
            var buffer = new byte[16];
            Assert.That(accepted.Receive(buffer), Is.EqualTo(4));
            accepted.Send("pong"u8);
            Assert.That(client.Receive(buffer), Is.EqualTo(4));
            accepted.Shutdown(SocketShutdown.Send);
            Assert.That(client.Receive(buffer), Is.EqualTo(0), "the accepted socket's shutdown reached the client");
        }
    }

    [Test]
    public void AListenerInheritedAsANonBlockingDescriptorStillGivesBlockingConnections()
    {
        // Live reload: the next process gets the listener's descriptor as this one left it (O_NONBLOCK, by fcntl) and wraps it
        // with new Socket(SafeSocketHandle); the accepted socket must stay blocking (a worker's head receive blocks), with no
        // runtime engine context made for it.
        using var original = Listen(IPAddress.Loopback);
        Assert.That(EpollNative.SetNonBlocking(original.SafeHandle, true), Is.True);
        using var inherited = new Socket(new SafeSocketHandle(original.SafeHandle.DangerousGetHandle(), ownsHandle: false));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(inherited.LocalEndPoint!);

        using var accepted = AcceptedSocket.Accept(inherited, inherited.LocalEndPoint!, out var errno)!;

        Assert.That(accepted, Is.Not.Null, $"accept4 failed: errno {errno}");
        Assert.That(accepted.Blocking, Is.True);
        Assert.That(accepted.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
        accepted.ReceiveTimeout = 10_000;
        client.Send("ping"u8);
        Assert.That(accepted.Receive(new byte[16]), Is.EqualTo(4));
    }

    [Test]
    public void AnEmptyListenQueueOnANonBlockingListenerIsEagainAndNoSocket()
    {
        using var listener = Listen(IPAddress.Loopback);
        Assert.That(EpollNative.SetNonBlocking(listener.SafeHandle, true), Is.True);

        var accepted = AcceptedSocket.Accept(listener, listener.LocalEndPoint!, out var errno);

        Assert.That(accepted, Is.Null);
        Assert.That(errno, Is.EqualTo(EpollNative.EAGAIN));
    }

    [Test]
    public void AnAccessorWhoseTargetTheRuntimeLacksThrowsMissingMethodExceptionAtTheCall()
    {
        // The failure AcceptedSocket.Wrap turns into the public constructor: if the runtime renames CreateAcceptSocket, this
        // is what the accessor does (not a crash at start-up, not a wrong socket).
        using var listener = Listen(IPAddress.Loopback);
        Assert.Throws<MissingMethodException>(() => Missing(listener, null!, null));
    }

    private static Socket AcceptBy(Socket listener, bool publicConstructor)
    {
        var fd = EpollNative.Accept(listener.SafeHandle, 0, 0, EpollNative.SockCloexec);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        return AcceptedSocket.Wrap(listener, new SafeSocketHandle(fd, ownsHandle: true), null!, publicConstructor);
    }

    /// <summary>An end point as a socket of the listener's family reports it (a dual-mode IPv6 listener sees IPv4 peers mapped).</summary>
    private static EndPoint Normalized(EndPoint endPoint, Socket listener)
    {
        var ip = (IPEndPoint)endPoint;
        return listener.AddressFamily == AddressFamily.InterNetworkV6 && ip.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(ip.Address.MapToIPv6(), ip.Port)
            : ip;
    }

    private static Socket Listen(IPAddress address)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            listener.DualMode = true;
        }

        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(16);
        return listener;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "CreateAcceptSocketRenamedByAFutureRuntime")]
    private static extern Socket Missing(Socket listener, SafeSocketHandle handle, EndPoint? remote);
}
