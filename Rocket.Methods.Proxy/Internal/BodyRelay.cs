using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using RocketOwin.Internal;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Streams an upstream response body to the client: length-delimited, chunked (decoded with the core's
/// <see cref="ChunkedDecoder"/>, re-framed by the core) or close-delimited, through bounded pooled buffers.
/// Bytes already received go out together; when the next read would wait, what was written is flushed first,
/// so a slow upstream's first bytes reach the client early.
/// </summary>
/// <remarks>Failures reading the upstream become <see cref="UpstreamBodyException"/> (the core aborts the client connection).</remarks>
internal static class BodyRelay
{
    /// <summary>Trailer bytes tolerated after the last chunk (discarded: the core re-frames the body).</summary>
    private const int MaxTrailerSize = 64 * 1024;

    /// <summary>
    /// Relays <paramref name="length"/> bytes (long.MaxValue: until the upstream closes). Returns once all arrived.
    /// <paramref name="splice"/> is the client's connection when the body may be spliced (Linux, plain sockets: <see cref="SpliceRelay"/>), else null.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    public static async ValueTask RelayLengthAsync(UpstreamConnection connection, Response response, long length, int bufferSize, ConnectionTransport? splice = null)
    {
        var closeDelimited = length == long.MaxValue;
        var take = (int)Math.Min(connection.Buffered, length);
        if (take > 0)
        {
            await response.WriteAsync(connection.ReadBuffer.AsMemory(connection.Start, take)).ConfigureAwait(false);
            connection.Start += take;
            length -= take;
            if (closeDelimited)
            {
                await StartChunkedAsync(response).ConfigureAwait(false);
            }
        }

        if (length == 0 || (splice is not null && !closeDelimited && await SpliceRelay.TryRelayAsync(connection, response, splice, length).ConfigureAwait(false)))
        {
            return;
        }

        // A body whose rest is small needs no more than that (plus room to see an unexpected extra byte).
        var size = (int)Math.Min(bufferSize, length + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var unflushed = take > 0;
        try
        {
            while (length > 0)
            {
                var n = await ReceiveAsync(connection, buffer.AsMemory(0, (int)Math.Min(size, length)), response, unflushed).ConfigureAwait(false);
                if (n == 0)
                {
                    if (closeDelimited)
                    {
                        return;
                    }

                    throw new UpstreamBodyException($"the upstream closed its connection {length} bytes before the end of the body");
                }

                await response.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                length -= n;
                unflushed = true;
                if (closeDelimited)
                {
                    unflushed = !await StartChunkedAsync(response).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Relays a chunked body until its last chunk and trailer section.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    public static async ValueTask RelayChunkedAsync(UpstreamConnection connection, Response response, int bufferSize)
    {
        var decoder = default(ChunkedDecoder);
        var output = ArrayPool<byte>.Shared.Rent(bufferSize);
        var unflushed = false;
        try
        {
            while (true)
            {
                int produced;
                int consumed;
                try
                {
                    produced = decoder.Decode(connection.ReadBuffer.AsSpan(connection.Start, connection.Buffered), output.AsSpan(0, bufferSize), null, MaxTrailerSize, out consumed);
                }
                catch (BadRequestException e)
                {
                    // RFC 9112 §7.1: a broken chunked body cannot be relayed; the client must not take what came so far for all of it.
                    throw new UpstreamBodyException("a malformed chunked body (" + e.Message + ")", e);
                }

                connection.Start += consumed;
                if (produced > 0)
                {
                    await response.WriteAsync(output.AsMemory(0, produced)).ConfigureAwait(false);
                    unflushed = !await StartChunkedAsync(response).ConfigureAwait(false);
                    continue;
                }

                if (decoder.IsDone)
                {
                    return;
                }

                if (consumed > 0)
                {
                    continue;
                }

                if (connection.Buffered == 0)
                {
                    connection.Start = connection.End = 0;
                }

                connection.MakeRoom(4096);
                var n = await ReceiveAsync(connection, connection.ReadBuffer.AsMemory(connection.End), response, unflushed).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new UpstreamBodyException("the upstream closed its connection before the last chunk");
                }

                connection.End += n;
                unflushed = false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// No length from the upstream: start the response at its first bytes so it goes out chunked, as it came in,
    /// rather than being held back and re-framed with a length. True when it flushed.
    /// </summary>
    private static async ValueTask<bool> StartChunkedAsync(Response response)
    {
        if (response.HasStarted || response.ContentLength is not null)
        {
            return false;
        }

        await response.FlushAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>One upstream read into <paramref name="into"/>, flushing the client's bytes first when the read has to wait; timed by the pool's sweep.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> ReceiveAsync(UpstreamConnection connection, Memory<byte> into, Response response, bool unflushed)
    {
        ValueTask<int> receive;
        try
        {
            receive = connection.Socket.ReceiveAsync(into, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failed(connection, e);
        }

        if (receive.IsCompleted)
        {
            return Result(connection, receive);
        }

        if (unflushed)
        {
            try
            {
                await response.FlushAsync().ConfigureAwait(false);
            }
            catch
            {
                // The pending read still owns the buffer: end it before the buffer goes back to the pool.
                connection.Abort(AbortReason.ClientGone);
                try
                {
                    await receive.ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }

                throw;
            }
        }

        connection.BeginWait();
        int n;
        try
        {
            n = await receive.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failed(connection, e);
        }
        finally
        {
            connection.EndWait();
        }

        return n == 0 && connection.Aborted != AbortReason.None ? throw Failed(connection, null) : n;
    }

    private static int Result(UpstreamConnection connection, ValueTask<int> completed)
    {
        int n;
        try
        {
            n = completed.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failed(connection, e);
        }

        if (n == 0 && connection.Aborted != AbortReason.None)
        {
            throw Failed(connection, null);
        }

        return n;
    }

    internal static Exception Failed(UpstreamConnection connection, Exception? e) => connection.Aborted switch
    {
        AbortReason.ClientGone => new OperationCanceledException("The client went away.", e),
        AbortReason.TimedOut => new UpstreamBodyException("the upstream sent nothing within upstream_timeout", e!),
        _ => new UpstreamBodyException(e?.Message ?? "the connection was closed", e!),
    };
}
