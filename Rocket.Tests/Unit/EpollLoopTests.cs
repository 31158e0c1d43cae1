using System.Net;
using System.Net.Sockets;
using RocketOwin.Internal;

namespace RocketOwin.Tests.Unit;

/// <summary>
/// Rocket's epoll loop (the internal ROCKET_EPOLL=1 engine): a registered socket's waits complete on the loop's thread at the
/// next edge, not before; a receive that drained the socket makes the next wait pend; closing wakes an awaited receive.
/// </summary>
[Platform("Linux")]
public class EpollLoopTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly Lazy<EpollLoop> Shared = new(() => new EpollLoop()); // one loop thread for the class, as in a server

    [Test]
    public async Task AnAwaitedWaitPendsWhileNothingArrivedAndCompletesOnTheLoopThreadWhenThePeerSends()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            DrainNow(ready);

            Assert.That(ready.MaybeReadable, Is.False);
            var wait = ready.WaitAsync();
            Assert.That(wait.IsCompleted, Is.False, "nothing was sent, yet the wait completed");

            string? wokenOn = null;
            var woken = wait.AsTask().ContinueWith(_ => wokenOn = Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
            client.Send("hello"u8);
            await woken.WaitAsync(Bound);

            Assert.That(wokenOn, Is.EqualTo(EpollLoop.ThreadName));
            Assert.That(ReceiveNow(server), Is.EqualTo("hello"));
            ready.Close();
        }
    }

    [Test]
    public async Task AReceiveThatDrainedTheSocketMakesTheNextWaitPendUntilNewBytesArrive()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            client.Send("one"u8);
            await ready.WaitAsync().AsTask().WaitAsync(Bound);
            var edges = ready.Edges;
            Assert.That(ReceiveNow(server), Is.EqualTo("one"));
            ready.Drained(edges); // the receive returned less than it asked for

            var wait = ready.WaitAsync();
            Assert.That(wait.IsCompleted, Is.False, "a drained socket was reported readable");
            client.Send("two"u8);
            await wait.AsTask().WaitAsync(Bound);
            Assert.That(ReceiveNow(server), Is.EqualTo("two"));
            ready.Close();
        }
    }

    [Test]
    public async Task BytesAndTheEndOfTheStreamInOneEdgeLeaveTheSocketReadableAfterAShortReceiveOfTheBytes()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            DrainNow(ready);
            client.Send("GET /"u8);
            client.Shutdown(SocketShutdown.Send);
            await WaitUntilAsync(() => ready.MaybeReadable);
            await Task.Delay(50); // both the bytes and the FIN have been delivered (loopback), whether in one edge or two
            var edges = ready.Edges;
            Assert.That(ReceiveNow(server), Is.EqualTo("GET /"));
            ready.Drained(edges); // short: the bytes are read, only the end of the stream is left

            Assert.That(ready.MaybeReadable, Is.True, "no edge will come for an end of stream already reported: the wait would hang");
            Assert.That(ReceiveNow(server), Is.Empty);
            ready.Close();
        }
    }

    [Test]
    public async Task AnIdleCallbackIsCalledOnceAtTheNextEdgeOnTheLoopThread()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            DrainNow(ready);
            var calls = 0;
            string? calledOn = null;
            using var called = new ManualResetEventSlim();
            Assert.That(ready.TryWait(() =>
            {
                Interlocked.Increment(ref calls);
                calledOn = Thread.CurrentThread.Name;
                called.Set();
            }), Is.False, "nothing was sent, yet the wait reported the socket readable");

            client.Send("x"u8);
            Assert.That(called.Wait(Bound), Is.True, "the callback never ran");
            client.Send("y"u8); // a second edge with no waiter: counted, no call
            await WaitUntilAsync(() => ready.MaybeReadable);

            Assert.That(Volatile.Read(ref calls), Is.EqualTo(1));
            Assert.That(calledOn, Is.EqualTo(EpollLoop.ThreadName));
            ready.Close();
        }
    }

    [Test]
    public async Task ClosingARegistrationWakesItsAwaitedReceive()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            DrainNow(ready);
            var wait = ready.WaitAsync();
            Assert.That(wait.IsCompleted, Is.False);

            ready.Close();
            await wait.AsTask().WaitAsync(Bound);
            Assert.That(ready.MaybeReadable, Is.True, "after a close the owner's receive must run and find the socket closed");
        }
    }

    [Test]
    public async Task ASendThatFilledTheBufferWaitsForTheWriteEdgeThatComesWhenThePeerReads()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            server.SendBufferSize = 4096;
            client.ReceiveBufferSize = 4096;
            var ready = loop.Register(server);
            await WaitUntilAsync(() => ready.WriteEdges > 0); // the registration's own write edge (the buffer is empty)

            // Fill the socket buffer until send(2) says EAGAIN; the edge count is read before the send it belongs to.
            var chunk = new byte[16 * 1024];
            int edges;
            while (true)
            {
                edges = ready.WriteEdges;
                if (EpollNative.SendNow(server.SafeHandle, chunk, out var error) < 0)
                {
                    Assert.That(error, Is.EqualTo(SocketError.WouldBlock));
                    break;
                }
            }

            var wait = ready.WaitWritableAsync(edges);
            Assert.That(wait.IsCompleted, Is.False, "the buffer is full, yet the write wait completed");

            // A read-side wait at the same time is independent of it (an upgraded stream reads while it writes).
            DrainNow(ready);
            var read = ready.WaitAsync();
            Assert.That(read.IsCompleted, Is.False);

            string? wokenOn = null;
            var woken = wait.AsTask().ContinueWith(_ => wokenOn = Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
            var sink = new byte[64 * 1024];
            while (!woken.IsCompleted)
            {
                client.Blocking = false;
                _ = client.Receive(sink, SocketFlags.None, out _);
                await Task.WhenAny(woken, Task.Delay(10));
            }

            await woken.WaitAsync(Bound);
            Assert.That(wokenOn, Is.EqualTo(EpollLoop.ThreadName));
            Assert.That(EpollNative.SendNow(server.SafeHandle, "x"u8, out _), Is.EqualTo(1));
            Assert.That(read.IsCompleted, Is.False, "a write edge woke the read wait");

            ready.Close();
            await read.AsTask().WaitAsync(Bound);
        }
    }

    [Test]
    public async Task InterruptingEachSideWakesOnlyItsOwnAwaitedWaitWithoutAnEdge()
    {
        var loop = Shared.Value;
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            var ready = loop.Register(server);
            await WaitUntilAsync(() => ready.WriteEdges > 0);
            DrainNow(ready);
            var read = ready.WaitAsync();
            var write = ready.WaitWritableAsync(ready.WriteEdges);
            Assert.That((read.IsCompleted, write.IsCompleted), Is.EqualTo((false, false)));

            ready.InterruptWriter();
            await write.AsTask().WaitAsync(Bound);
            Assert.That(read.IsCompleted, Is.False, "interrupting the writer woke the reader (an upgraded stream reads while it sends)");
            ready.Interrupt();
            await read.AsTask().WaitAsync(Bound);
            ready.Close();
        }
    }

    [Test]
    public void TheEventLayoutIsTheKernelsOnEachArchitecture()
    {
        // struct epoll_event: packed on x86-64 (12 bytes), naturally aligned on arm64 (16 bytes); arm64 is not run here.
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<EpollNative.Event>(), Is.EqualTo(12));
        Assert.That(System.Runtime.CompilerServices.Unsafe.SizeOf<EpollNative.AlignedEvent>(), Is.EqualTo(16));
        Assert.That(System.Runtime.InteropServices.Marshal.OffsetOf<EpollNative.AlignedEvent>(nameof(EpollNative.AlignedEvent.Data)), Is.EqualTo((nint)8));
        var expected = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? 12 : 16;
        Assert.That(EpollNative.EventSize, Is.EqualTo(expected));
    }

    private static void DrainNow(EpollSocket ready)
    {
        var edges = ready.Edges;
        ready.Socket.Blocking = false;
        var n = ready.Socket.Receive(new byte[16], SocketFlags.None, out var error);
        Assert.That((n, error), Is.EqualTo((0, SocketError.WouldBlock)));
        ready.Drained(edges);
    }

    private static string ReceiveNow(Socket socket)
    {
        var buffer = new byte[64];
        var n = socket.Receive(buffer, SocketFlags.None, out var error);
        Assert.That(error, Is.EqualTo(SocketError.Success));
        return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "condition not met in time");
            await Task.Delay(10);
        }
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound);
        var server = await listener.AcceptAsync().WaitAsync(Bound);
        return (client, server);
    }
}
