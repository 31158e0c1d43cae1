using System.Buffers;
using System.Runtime.CompilerServices;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>Copies the upstream's response body to the client through one pooled buffer, flushing whenever the upstream makes us wait.</summary>
internal static class BodyCopier
{
    /// <summary>
    /// Copies until the upstream body ends. Bytes already received go out together; when the next read
    /// would wait, what was written is flushed first, so a slow upstream's first bytes reach the client early.
    /// </summary>
    /// <param name="source">The upstream body.</param>
    /// <param name="response">The client response.</param>
    /// <param name="bufferSize">Bytes per read.</param>
    /// <param name="upstream">Cancels upstream reads: linked to the client going away, and armed with <paramref name="readTimeout"/> while a read waits.</param>
    /// <param name="readTimeout">Longest wait for one upstream read.</param>
    /// <param name="clientGone">Cancels writes to the client.</param>
    /// <exception cref="UpstreamBodyException">Reading the upstream failed or timed out.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask CopyAsync(Stream source, Response response, int bufferSize, CancellationTokenSource upstream, TimeSpan readTimeout, CancellationToken clientGone)
    {
        // A body whose length is known and small needs no more than its length (plus room to see the end):
        // small arrays come back from the pool's hot buckets instead of a 64 KiB one per request.
        if (response.ContentLength is { } length && length < bufferSize)
        {
            bufferSize = (int)length + 1;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        var memory = buffer.AsMemory(0, bufferSize);
        var token = upstream.Token;
        var unflushed = false;
        try
        {
            while (true)
            {
                ValueTask<int> read;
                try
                {
                    read = source.ReadAsync(memory, token);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
                {
                    throw Failed(e, clientGone);
                }

                int n;
                if (read.IsCompleted)
                {
                    try
                    {
                        n = read.GetAwaiter().GetResult();
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
                    {
                        throw Failed(e, clientGone);
                    }
                }
                else
                {
                    if (unflushed)
                    {
                        try
                        {
                            await response.FlushAsync(clientGone).ConfigureAwait(false);
                        }
                        catch
                        {
                            // The pending read still owns the buffer: end it before the buffer goes back to the pool.
                            await upstream.CancelAsync().ConfigureAwait(false);
                            try
                            {
                                await read.ConfigureAwait(false);
                            }
                            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
                            {
                            }

                            throw;
                        }

                        unflushed = false;
                    }

                    // Armed only while waiting: a slow client's writes never count against the upstream.
                    upstream.CancelAfter(readTimeout);
                    n = await Finish(read, clientGone).ConfigureAwait(false);
                    upstream.CancelAfter(Timeout.InfiniteTimeSpan);
                }

                if (n == 0)
                {
                    return;
                }

                await response.WriteAsync(memory[..n], clientGone).ConfigureAwait(false);
                unflushed = true;
                if (!response.HasStarted && response.ContentLength is null)
                {
                    // No length from the upstream: start the response now so it goes out chunked, as it came in,
                    // rather than being held back and re-framed with a length.
                    await response.FlushAsync(clientGone).ConfigureAwait(false);
                    unflushed = false;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> Finish(ValueTask<int> read, CancellationToken clientGone)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            throw Failed(e, clientGone);
        }
    }

    private static Exception Failed(Exception e, CancellationToken clientGone)
        => clientGone.IsCancellationRequested
            ? new OperationCanceledException("The client went away.", e, clientGone)
            : new UpstreamBodyException(e is OperationCanceledException ? "the upstream sent nothing within upstream_timeout" : e.Message, e);
}
