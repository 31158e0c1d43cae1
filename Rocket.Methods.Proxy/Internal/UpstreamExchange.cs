using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// One request on one upstream connection: writes the request head (and body), reads the response head (past any
/// 1xx), then relays the response or tunnels after a 101. Decides whether the connection goes back to its pool.
/// </summary>
/// <remarks>Stateless apart from its collaborators; <see cref="RunAsync"/> runs concurrently for many requests.</remarks>
internal sealed class UpstreamExchange(ProxyOptions options, RequestWriter writer, ResponseHeadCopier heads)
{
    /// <summary>Interim responses tolerated before the final one (each is bounded by the head size; a loop of them is not).</summary>
    private const int MaxInterimResponses = 16;

    /// <summary>How long an upstream asked with Expect: 100-continue may take to send its 100 before it gets the body anyway (SocketsHttpHandler's default, 1 s).</summary>
    private static readonly TimeSpan ContinueTimeout = TimeSpan.FromSeconds(1);

    /// <summary>RFC 9112 §7.1: the last chunk and an empty trailer section.</summary>
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    /// <summary>What came of the exchange.</summary>
    public enum Outcome
    {
        /// <summary>The response (or an error response) was written.</summary>
        Done,

        /// <summary>A pooled connection turned out closed by the upstream before any byte of the response, and the request can be sent again.</summary>
        Retry,

        /// <summary>No response head: the caller answers 502 (the reason is in <see cref="Failure"/>).</summary>
        BadGateway,

        /// <summary>No response head within upstream_timeout: the caller answers 504.</summary>
        GatewayTimeout,

        /// <summary>The response head was malformed (the reason is in <see cref="Failure"/>): the caller answers 502.</summary>
        Malformed,
    }

    /// <summary>Runs the exchange on <paramref name="connection"/>, and returns the connection to its pool or closes it.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    public async ValueTask<(Outcome Outcome, string? Failure)> RunAsync(RequestContext context, Upstream upstream, UpstreamConnection connection, string path)
    {
        var reusable = false;
        connection.Attach(context);
        try
        {
            var head = context.Request;
            var framing = !head.HasBody ? RequestWriter.BodyFraming.None : head.IsChunked ? RequestWriter.BodyFraming.Chunked : RequestWriter.BodyFraming.Length;
            var expectContinue = framing != RequestWriter.BodyFraming.None && head.ExpectsContinue;
            var headLength = writer.Write(context, upstream, path, connection, framing, expectContinue);
            var retryable = connection.Requests > 0 && framing == RequestWriter.BodyFraming.None && IsIdempotent(head.Method);
            var bodySent = framing == RequestWriter.BodyFraming.None;
            var sendFailed = false;
            try
            {
                if (framing == RequestWriter.BodyFraming.Length && !expectContinue && head.ContentLength <= connection.WriteBuffer.Length - headLength)
                {
                    // A small body goes out with the head in one send.
                    headLength = await ReadWholeBodyAsync(context, connection, headLength).ConfigureAwait(false);
                    bodySent = true;
                }

                await connection.SendAsync(connection.WriteBuffer.AsMemory(0, headLength)).ConfigureAwait(false);
                if (!bodySent && !expectContinue)
                {
                    await SendBodyAsync(context, connection, framing).ConfigureAwait(false);
                    bodySent = true;
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (Failure(connection) is { } aborted)
                {
                    return aborted;
                }

                if (retryable)
                {
                    return (Outcome.Retry, null);
                }

                // The upstream may have answered and closed without reading the body (a 413, a 401): that answer is still readable.
                sendFailed = true;
            }

            for (var interim = 0; ; interim++)
            {
                var read = await ReadHeadAsync(connection, expectContinue && !bodySent).ConfigureAwait(false);
                if (read == HeadRead.ContinueTimedOut)
                {
                    // The upstream ignored Expect: 100-continue; it gets the body now (RFC 9110 §10.1.1).
                    if (!await TrySendBodyAsync(context, connection, framing).ConfigureAwait(false))
                    {
                        return Failure(connection) ?? (Outcome.BadGateway, "closed the connection while taking the request body");
                    }

                    bodySent = true;
                    continue;
                }

                if (read != HeadRead.Complete)
                {
                    if (Failure(connection) is { } aborted)
                    {
                        return aborted;
                    }

                    if (read == HeadRead.ClosedBeforeAnyByte && retryable && !sendFailed)
                    {
                        return (Outcome.Retry, null);
                    }

                    return read == HeadRead.Malformed
                        ? (Outcome.Malformed, connection.Head.Malformed)
                        : (Outcome.BadGateway, read == HeadRead.ClosedBeforeAnyByte ? "closed the connection before its response head" : "closed the connection within its response head");
                }

                var status = connection.Head.Status;
                if (status >= 200 || (status == 101 && head.IsUpgradeRequest))
                {
                    break;
                }

                if (status == 101)
                {
                    // RFC 9110 §15.2.2: 101 only answers an Upgrade request.
                    return (Outcome.Malformed, "101 Switching Protocols to a request that did not ask to upgrade");
                }

                if (interim >= MaxInterimResponses)
                {
                    return (Outcome.Malformed, "more than 16 interim (1xx) responses");
                }

                // RFC 9110 §15.2: a proxy forwards the interim responses it did not ask for (103 Early Hints, RFC 8297); the core
                // leaves them out for an HTTP/1.0 client. 100 answers the proxy's own Expect (the core sends the client its own 100).
                if (status != 100)
                {
                    await context.Response.SendInterimAsync(status, ResponseHeadCopier.InterimFields(connection)).ConfigureAwait(false);
                }

                connection.Start += connection.Head.Length;

                if (status == 100 && !bodySent)
                {
                    if (!await TrySendBodyAsync(context, connection, framing).ConfigureAwait(false))
                    {
                        return Failure(connection) ?? (Outcome.BadGateway, "closed the connection while taking the request body");
                    }

                    bodySent = true;
                }
            }

            UpstreamPool.ReportSuccess(upstream);
            var response = context.Response;
            heads.Copy(connection, response);
            var responseHead = connection.Head;
            connection.Start += responseHead.Length;
            if (responseHead.Status == 101)
            {
                await TunnelAsync(context, connection).ConfigureAwait(false);
                return (Outcome.Done, null);
            }

            // RFC 9112 §6.3 items 1-2: HEAD, 204 and 304 responses end at their head.
            if (head.Method == "HEAD" || responseHead.Status is 204 or 304)
            {
            }
            else if (responseHead.Chunked)
            {
                await BodyRelay.RelayChunkedAsync(connection, response, options.BufferSize).ConfigureAwait(false);
            }
            else if (responseHead.HasTransferEncoding || responseHead.ContentLength < 0)
            {
                // RFC 9112 §6.3 items 4 and 8: read until the upstream closes.
                await BodyRelay.RelayLengthAsync(connection, response, long.MaxValue, options.BufferSize).ConfigureAwait(false);
                return (Outcome.Done, null);
            }
            else
            {
                await BodyRelay.RelayLengthAsync(connection, response, responseHead.ContentLength, options.BufferSize, options.Splice ? context.Connection.Transport : null).ConfigureAwait(false);
            }

            // Reused only when the exchange ended exactly at the response's end, both ways.
            reusable = !responseHead.Close && bodySent && !sendFailed && connection.Buffered == 0;
            return (Outcome.Done, null);
        }
        finally
        {
            connection.Detach();
            if (reusable)
            {
                connection.Start = connection.End = 0;
                connection.Pool.Return(connection);
            }
            else if (!connection.Tunnelled)
            {
                connection.Pool.Discard(connection);
            }
        }
    }

    // RFC 9110 §9.2.2.
    public static bool IsIdempotent(string method)
        => method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";

    private static (Outcome, string?)? Failure(UpstreamConnection connection) => connection.Aborted switch
    {
        AbortReason.TimedOut => (Outcome.GatewayTimeout, "did not answer within upstream_timeout"),
        AbortReason.ClientGone => throw new OperationCanceledException("The client went away."),
        AbortReason.ServerStopping => (Outcome.BadGateway, "the server is stopping"),
        _ => null,
    };

    private enum HeadRead
    {
        Complete,
        Malformed,
        ClosedBeforeAnyByte,
        ClosedWithinHead,
        ContinueTimedOut,
    }

    /// <summary>Reads until a whole response head is parsed into <see cref="UpstreamConnection.Head"/>; the whole head wait is timed by the sweep.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<HeadRead> ReadHeadAsync(UpstreamConnection connection, bool awaitingContinue)
    {
        connection.BeginWait();
        var started = Environment.TickCount64;
        try
        {
            while (true)
            {
                if (connection.Buffered > 0)
                {
                    var parsed = connection.ParseHead();
                    if (parsed > 0)
                    {
                        return HeadRead.Complete;
                    }

                    if (parsed < 0)
                    {
                        return HeadRead.Malformed;
                    }
                }
                else
                {
                    connection.Start = connection.End = 0;
                }

                int n;
                try
                {
                    if (awaitingContinue)
                    {
                        // The wait for a 100 is bounded by a monitor deadline (not Task.Delay: no runtime timer thread). Its
                        // expiry cancels the receive, which the socket engine completes as cancelled (the request does not go
                        // on on the monitor's thread); a cancelled receive has taken no bytes, so the head is read afresh later.
                        connection.MakeRoom(4096);
                        var left = ContinueTimeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                        if (left <= TimeSpan.Zero)
                        {
                            return HeadRead.ContinueTimedOut;
                        }

                        using var deadline = new MonitorDeadline(left);
                        try
                        {
                            n = await connection.Socket.ReceiveAsync(connection.ReadBuffer.AsMemory(connection.End), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (deadline.Token.IsCancellationRequested)
                        {
                            return HeadRead.ContinueTimedOut;
                        }

                        connection.End += n;
                    }
                    else if (connection.Epoll is { } ready)
                    {
                        // Rocket's epoll loop: no receive until the socket is known readable; woken on the loop's thread.
                        connection.MakeRoom(4096);
                        while ((n = connection.ReceiveReady()) < 0)
                        {
                            await ready.WaitAsync().ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        // The receive is awaited here directly: one state machine less per request (this whole wait is timed already).
                        connection.MakeRoom(4096);
                        n = await connection.Socket.ReceiveAsync(connection.ReadBuffer.AsMemory(connection.End), SocketFlags.None).ConfigureAwait(false);
                        connection.End += n;
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    n = 0;
                }

                if (n == 0)
                {
                    return connection.Buffered == 0 ? HeadRead.ClosedBeforeAnyByte : HeadRead.ClosedWithinHead;
                }
            }
        }
        finally
        {
            connection.EndWait();
        }
    }

    /// <summary>Reads a small length-delimited body whole into the write buffer after the head, so head and body leave in one send.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> ReadWholeBodyAsync(RequestContext context, UpstreamConnection connection, int headLength)
    {
        var end = headLength;
        var buffer = connection.WriteBuffer;
        int n;
        while ((n = await context.RequestBody.ReadAsync(buffer.AsMemory(end)).ConfigureAwait(false)) > 0)
        {
            end += n;
        }

        return end;
    }

    /// <summary>Sends the body after a 100 (or none in time); false when the upstream connection failed meanwhile.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<bool> TrySendBodyAsync(RequestContext context, UpstreamConnection connection, RequestWriter.BodyFraming framing)
    {
        try
        {
            await SendBodyAsync(context, connection, framing).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Streams the client's body upstream through one pooled buffer; a chunked one stays chunked.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private async ValueTask SendBodyAsync(RequestContext context, UpstreamConnection connection, RequestWriter.BodyFraming framing)
    {
        // Room before the data for a chunk-size line (16 hex digits and CRLF) and after it for the CRLF.
        const int Prefix = 18;
        var chunked = framing == RequestWriter.BodyFraming.Chunked;
        var size = options.BufferSize;
        var buffer = ArrayPool<byte>.Shared.Rent(size + Prefix + 2);
        try
        {
            while (true)
            {
                // The client's pace is the client's business (the core times its body reads): no upstream wait runs meanwhile.
                var n = await context.RequestBody.ReadAsync(buffer.AsMemory(Prefix, size)).ConfigureAwait(false);
                if (n == 0)
                {
                    if (chunked)
                    {
                        await connection.SendAsync(LastChunk).ConfigureAwait(false);
                    }

                    return;
                }

                if (!chunked)
                {
                    await connection.SendAsync(buffer.AsMemory(Prefix, n)).ConfigureAwait(false);
                    continue;
                }

                // RFC 9112 §7.1: chunk-size in hex, CRLF, the data, CRLF; one send per chunk.
                var digits = (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n) + 3) / 4;
                var start = Prefix - digits - 2;
                n.TryFormat(buffer.AsSpan(start, digits), out _, "x", CultureInfo.InvariantCulture);
                buffer[Prefix - 2] = (byte)'\r';
                buffer[Prefix - 1] = (byte)'\n';
                buffer[Prefix + n] = (byte)'\r';
                buffer[Prefix + n + 1] = (byte)'\n';
                await connection.SendAsync(buffer.AsMemory(start, Prefix + n + 2 - start)).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask TunnelAsync(RequestContext context, UpstreamConnection connection)
    {
        connection.Tunnelled = true;
        connection.Pool.Forget(connection);
        var leftover = connection.ReadBuffer.AsMemory(connection.Start, connection.Buffered);

        // The context is the server's again once UpgradeAsync returns: what the tunnel needs of it is read before.
        var stopping = context.ServerStopping;
        var clientStream = await context.UpgradeAsync().ConfigureAwait(false);
        if (!leftover.IsEmpty)
        {
            await clientStream.WriteAsync(leftover).ConfigureAwait(false);
            await clientStream.FlushAsync().ConfigureAwait(false);
        }

        // NetworkStream takes blocking sockets only (the pool makes them non-blocking for its direct sends).
        connection.Epoll?.Close(); // the tunnel waits on the runtime's engine

        // A socket connected on Rocket's loop (connect(2)) is not connected in its Socket object's eyes, which NetworkStream
        // checks: a second Socket over the same descriptor reads its state from the kernel.
        var upstream = connection.Socket.Connected ? connection.Socket : new Socket(connection.Socket.SafeHandle);
        upstream.Blocking = true;
        await Tunnel.RunAsync(clientStream, new NetworkStream(upstream, ownsSocket: true), options.BufferSize, stopping).ConfigureAwait(false);
    }
}
