using System.Buffers;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>After a 101: copies bytes both ways between the client and the upstream until either side closes.</summary>
internal static class Tunnel
{
    /// <summary>Runs the tunnel; returns when one direction ended (end of stream or an error) and the other was stopped.</summary>
    public static async Task RunAsync(Stream client, Stream upstream, int bufferSize, CancellationToken stopping)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var up = PumpAsync(client, upstream, bufferSize, stop.Token);
        var down = PumpAsync(upstream, client, bufferSize, stop.Token);
        await Task.WhenAny(up, down).ConfigureAwait(false);

        // One side closed: a WebSocket or other upgraded protocol has nothing more to say on a half-open pair.
        await stop.CancelAsync().ConfigureAwait(false);
        await upstream.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(up, down).ConfigureAwait(false);
    }

    private static async Task PumpAsync(Stream from, Stream to, int bufferSize, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer.AsMemory(0, bufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
        {
            // Either side went away: that ends the tunnel, it is not an error.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
