using System.Text;

namespace RocketOwin.Methods.Proxy.Internal;

/// <summary>
/// Lets <c>OPTIONS *</c> reach the upstream as <c>*</c> (RFC 9112 §3.2.4). SocketsHttpHandler only sends a URI's path,
/// which always starts with '/', so such a request is sent to <see cref="MarkerPath"/> and this stream, wrapped around
/// the connections of a handler used for nothing else, rewrites that request line on its way out.
/// </summary>
/// <remarks>The marker is random per process: a client cannot send it to have a line rewritten.</remarks>
internal sealed class AsteriskFormStream(Stream inner) : Stream
{
    /// <summary>The path that stands for <c>*</c> on the way to the upstream.</summary>
    public static readonly string MarkerPath = "/rocket-options-asterisk-" + Guid.NewGuid().ToString("N");

    private static readonly byte[] MarkedLine = Encoding.ASCII.GetBytes("OPTIONS " + MarkerPath + " HTTP/1.1\r\n");
    private static readonly byte[] AsteriskLine = "OPTIONS * HTTP/1.1\r\n"u8.ToArray();

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => buffer.Span.StartsWith(MarkedLine) ? WriteRewrittenAsync(buffer, cancellationToken) : inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.StartsWith(MarkedLine))
        {
            inner.Write(AsteriskLine);
            buffer = buffer[MarkedLine.Length..];
        }

        inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask WriteRewrittenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(AsteriskLine, cancellationToken).ConfigureAwait(false);
        await inner.WriteAsync(buffer[MarkedLine.Length..], cancellationToken).ConfigureAwait(false);
    }
}
