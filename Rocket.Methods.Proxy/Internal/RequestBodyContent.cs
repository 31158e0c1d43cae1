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

    public RequestBodyContent(Stream body, long? length, int bufferSize)
    {
        _body = body;
        _length = length;
        _bufferSize = bufferSize;
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
                try
                {
                    n = await _body.ReadAsync(buffer.AsMemory(0, _bufferSize), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ClientFailure = e;
                    throw;
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
