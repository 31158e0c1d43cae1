namespace RocketOwin.Internal;

/// <summary>The response body as a write-only stream over <see cref="Response"/>.</summary>
internal sealed class ResponseBodyStream : Stream
{
    private readonly Response _response;

    public ResponseBodyStream(Response response) => _response = response;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _response.BodyBytesWritten;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => _response.Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => _response.Write(buffer);

    public override void WriteByte(byte value) => _response.Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => _response.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _response.WriteAsync(buffer, cancellationToken);

    public override void Flush() => _response.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _response.FlushAsync(cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The response body is write-only.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
