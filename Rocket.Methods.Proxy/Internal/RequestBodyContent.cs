using System.Buffers;
using System.Net;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// The client's request body as the upstream request's content, streamed through one pooled buffer.
/// Nothing is read from the client until the upstream connection asks for the body, so with
/// <c>Expect: 100-continue</c> the client's 100 is sent only once the upstream sent its own.
/// </summary>
/// <remarks>Used for one upstream attempt; records whether reading started and what failed on the client side.</remarks>
internal sealed class RequestBodyContent : HttpContent
{
    private readonly Stream _body;
    private readonly long? _length;
    private readonly int _bufferSize;
    private readonly CancellationTokenSource _upstreamTimer;
    private readonly TimeSpan _upstreamTimeout;

    /// <param name="body">The client's body.</param>
    /// <param name="length">Its declared length; null for chunked.</param>
    /// <param name="bufferSize">Bytes per read.</param>
    /// <param name="upstreamTimer">The exchange's upstream cancellation: armed with <paramref name="upstreamTimeout"/> only while the upstream is waited for.</param>
    /// <param name="upstreamTimeout">Longest wait for one write to the upstream, and for its head after the last.</param>
    public RequestBodyContent(Stream body, long? length, int bufferSize, CancellationTokenSource upstreamTimer, TimeSpan upstreamTimeout)
    {
        _body = body;
        _length = length;
        _bufferSize = bufferSize;
        _upstreamTimer = upstreamTimer;
        _upstreamTimeout = upstreamTimeout;
        if (length is { } n)
        {
            Headers.ContentLength = n;
        }
    }

    /// <summary>True once the upstream connection started taking the body: the request can no longer be retried.</summary>
    public bool Started { get; private set; }

    /// <summary>What went wrong reading the client's body (malformed framing, too large, client gone), if anything.</summary>
    public Exception? ClientFailure { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Started = true;
        var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
        try
        {
            while (true)
            {
                int n;

                // The client's pace is the client's business (the core times its body reads): the upstream timer is off meanwhile.
                _upstreamTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                try
                {
                    n = await _body.ReadAsync(buffer.AsMemory(0, _bufferSize), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ClientFailure = e;
                    throw;
                }
                finally
                {
                    // From here on the upstream is waited for: taking this write, or (after the last) answering.
                    _upstreamTimer.CancelAfter(_upstreamTimeout);
                }

                if (n == 0)
                {
                    return;
                }

                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);

                // A slow upload reaches the upstream as it comes, not when the handler's write buffer fills.
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        // Unknown length: SocketsHttpHandler sends the body chunked, so chunked stays chunked.
        length = _length ?? 0;
        return _length is not null;
    }
}
