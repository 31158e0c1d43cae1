using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Linux: a length-delimited upstream body moves upstream socket -> pipe -> client socket with splice(2), never copied
/// to user space (nginx has no such path; HAProxy does this). Both sockets are non-blocking (the runtime made them so
/// for its asynchronous operations; a socket on Rocket's epoll loop, whose descriptor stays blocking, is made so for the
/// relay and put back after), so no splice waits: an empty upstream is waited for with the loop's next read edge or the
/// runtime's zero-byte receive, and a full client socket by sending a few bytes read back out of the pipe with the
/// ordinary asynchronous send, which waits as every other response write does (and is timed by the core's
/// MinResponseDataRate / IOTimeout).
/// </summary>
/// <remarks>
/// Not used (the copy path runs instead) on TLS, off Linux, for small bodies, when a socket of the runtime's engine is in
/// blocking mode, or when the first splice fails before any byte moved. After that, a failure ends the body as the copy
/// path's would.
/// </remarks>
internal static class SpliceRelay
{
    /// <summary>Below this the copy path's one or two reads cost less than the pipe's system calls.</summary>
    public const long MinLength = 256 * 1024;

    /// <summary>Bytes read back from the pipe to wait on a full client socket: the send waits until the socket takes them, then splicing resumes.</summary>
    private const int WaitBytes = 4096;

    private static readonly bool Supported = OperatingSystem.IsLinux();

    /// <summary>Set when the kernel refused splice on sockets (ENOSYS, EINVAL): every later body takes the copy path at once.</summary>
    private static volatile bool _refused;

    private static long _spliced;

    /// <summary>Bodies whose bytes went through a pipe (the tests' proof that the splice path ran).</summary>
    public static long BodiesSpliced => Interlocked.Read(ref _spliced);

    /// <summary>
    /// Relays <paramref name="length"/> body bytes from the upstream to the client. False when splice was not used and
    /// nothing was consumed (the caller copies instead).
    /// </summary>
    /// <exception cref="UpstreamBodyException">The upstream failed or closed before the end of the body.</exception>
    /// <exception cref="IOException">The client went away.</exception>
    public static async ValueTask<bool> TryRelayAsync(UpstreamConnection connection, Response response, ConnectionTransport client, long length)
    {
        if (!Supported || _refused || length < MinLength || client.Tls is not null)
        {
            return false;
        }

        // Referenced for the whole relay: a socket disposed meanwhile keeps its descriptor number until released, so a
        // splice can never write into a descriptor the process reused for something else.
        SafeHandle upstreamHandle;
        SafeHandle clientHandle;
        try
        {
            upstreamHandle = connection.Socket.SafeHandle;
            clientHandle = client.Socket.SafeHandle;
        }
        catch (ObjectDisposedException)
        {
            return false; // the copy path reports the closed connection as it always has
        }

        var upstreamReferenced = false;
        var clientReferenced = false;
        var upstreamFd = -1;
        var clientFd = -1;
        var upstreamRestore = -1;
        var clientRestore = -1;
        SplicePipe? pipe = null;
        var inPipe = 0;
        try
        {
            upstreamHandle.DangerousAddRef(ref upstreamReferenced);
            clientHandle.DangerousAddRef(ref clientReferenced);
            upstreamFd = (int)upstreamHandle.DangerousGetHandle();
            clientFd = (int)clientHandle.DangerousGetHandle();
            if (!MakeNonBlocking(upstreamFd, connection.Epoll is not null, ref upstreamRestore)
                || !MakeNonBlocking(clientFd, client.Epoll is not null, ref clientRestore)
                || (pipe = SplicePipe.Rent()) is null)
            {
                return false;
            }

            var started = false;
            while (length > 0 || inPipe > 0)
            {
                if (length > 0 && inPipe < pipe.Size)
                {
                    var edges = connection.Epoll?.Edges ?? 0;
                    var n = NativeMethods.Splice(upstreamFd, 0, pipe.WriteFd, 0, (nuint)Math.Min(length, pipe.Size - inPipe), NativeMethods.SpliceMove | NativeMethods.SpliceNonBlock);
                    if (n > 0)
                    {
                        length -= n;
                        inPipe += (int)n;
                    }
                    else if (n == 0)
                    {
                        if (connection.Aborted != AbortReason.None)
                        {
                            throw BodyRelay.Failed(connection, null);
                        }

                        // What came still goes out, as on the copy path; the client must not take it for the whole body (the core aborts).
                        if (inPipe > 0)
                        {
                            await StartAsync(response, length + inPipe, started).ConfigureAwait(false);
                            await DrainAsync(pipe, clientFd, client, inPipe).ConfigureAwait(false);
                            inPipe = 0;
                        }

                        throw new UpstreamBodyException($"the upstream closed its connection {length} bytes before the end of the body");
                    }
                    else
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno != NativeMethods.EAGAIN && errno != NativeMethods.EINTR)
                        {
                            if (!started && inPipe == 0)
                            {
                                _refused |= errno is NativeMethods.ENOSYS or NativeMethods.EINVAL;
                                return false;
                            }

                            throw BodyRelay.Failed(connection, new SocketException(errno));
                        }

                        connection.Epoll?.Drained(edges);
                        if (inPipe == 0)
                        {
                            await WaitReadableAsync(connection).ConfigureAwait(false);
                            continue;
                        }
                    }
                }

                await StartAsync(response, length + inPipe, started).ConfigureAwait(false);
                started = true;

                if (inPipe > 0)
                {
                    await DrainAsync(pipe, clientFd, client, inPipe).ConfigureAwait(false);
                    inPipe = 0;
                }
            }

            response.EndDirectBody();
            return true;
        }
        finally
        {
            // Rocket's loop keeps its sockets' descriptors blocking (a worker's receive blocks in the kernel): back as they were.
            Restore(clientFd, clientRestore);
            Restore(upstreamFd, upstreamRestore);
            if (pipe is not null)
            {
                if (inPipe == 0)
                {
                    pipe.Return();
                }
                else
                {
                    pipe.Close();
                }
            }

            if (clientReferenced)
            {
                clientHandle.DangerousRelease();
            }

            if (upstreamReferenced)
            {
                upstreamHandle.DangerousRelease();
            }
        }
    }

    /// <summary>Before the first spliced byte: the head (and any body bytes that came with it) leave, in one send.</summary>
    private static async ValueTask StartAsync(Response response, long total, bool started)
    {
        if (started)
        {
            return;
        }

        if (!await response.BeginDirectBodyAsync(total, default).ConfigureAwait(false))
        {
            throw new InvalidOperationException("A response without a body cannot take a spliced one.");
        }

        Interlocked.Increment(ref _spliced);
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is (now) non-blocking, which splice needs on a socket (the kernel reads O_NONBLOCK, not
    /// SPLICE_F_NONBLOCK, for the socket's side). The runtime's engine made its sockets so; a socket on Rocket's loop
    /// (<paramref name="onLoop"/>) is made so for the relay, and <paramref name="restore"/> gets the flags to put back.
    /// </summary>
    private static bool MakeNonBlocking(int fd, bool onLoop, ref int restore)
    {
        var flags = NativeMethods.Fcntl(fd, NativeMethods.FGetFl, 0);
        if (flags < 0)
        {
            return false;
        }

        if ((flags & NativeMethods.ONonBlock) != 0)
        {
            return true;
        }

        if (!onLoop || NativeMethods.Fcntl(fd, NativeMethods.FSetFl, flags | NativeMethods.ONonBlock) != 0)
        {
            return false;
        }

        restore = flags;
        return true;
    }

    private static void Restore(int fd, int flags)
    {
        if (flags >= 0)
        {
            _ = NativeMethods.Fcntl(fd, NativeMethods.FSetFl, flags);
        }
    }

    /// <summary>Moves all <paramref name="count"/> bytes from the pipe to the client socket; waits (asynchronously) only while the socket is full.</summary>
    private static async ValueTask DrainAsync(SplicePipe pipe, int clientFd, ConnectionTransport client, int count)
    {
        while (count > 0)
        {
            var n = NativeMethods.Splice(pipe.ReadFd, 0, clientFd, 0, (nuint)count, NativeMethods.SpliceMove | NativeMethods.SpliceNonBlock);
            if (n > 0)
            {
                count -= (int)n;
                continue;
            }

            var errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (errno == NativeMethods.EINTR)
            {
                continue;
            }

            if (errno != NativeMethods.EAGAIN)
            {
                throw new IOException($"send failed: {(SocketError)errno}", new SocketException(errno));
            }

            // The client socket is full: a few bytes go through the ordinary send, which waits for room (and is timed).
            var buffer = ArrayPool<byte>.Shared.Rent(WaitBytes);
            try
            {
                var read = ReadPipe(pipe, buffer, Math.Min(WaitBytes, count));
                await client.SendAsync(buffer.AsMemory(0, read), default).ConfigureAwait(false);
                count -= read;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static unsafe int ReadPipe(SplicePipe pipe, byte[] buffer, int count)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = NativeMethods.Read(pipe.ReadFd, p, (nuint)count);
                if (n > 0)
                {
                    return (int)n;
                }

                if (n < 0 && Marshal.GetLastPInvokeError() == NativeMethods.EINTR)
                {
                    continue;
                }

                throw new IOException("the splice pipe could not be read back");
            }
        }
    }

    /// <summary>
    /// Waits until the upstream socket has bytes (or closed): for the next edge on Rocket's loop, else with the runtime's
    /// zero-byte receive; timed by the pool's sweep (its abort shuts the socket down, which wakes either).
    /// </summary>
    private static async ValueTask WaitReadableAsync(UpstreamConnection connection)
    {
        connection.BeginWait();
        try
        {
            if (connection.Epoll is { } ready)
            {
                await ready.WaitAsync().ConfigureAwait(false);
                return;
            }

            await connection.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw BodyRelay.Failed(connection, e);
        }
        finally
        {
            connection.EndWait();
        }
    }
}
