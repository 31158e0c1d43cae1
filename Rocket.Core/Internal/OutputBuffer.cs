using System.Buffers;

namespace RocketOwin.Internal;

/// <summary>Response bytes waiting to be sent on one connection: heads, small bodies, chunk framing, and pipelined responses batched into one send.</summary>
internal sealed class OutputBuffer : IBufferWriter<byte>
{
    private readonly HttpExchange _exchange;
    private byte[] _buffer;
    private int _count;

    public OutputBuffer(HttpExchange exchange, int initialSize)
    {
        _exchange = exchange;
        _buffer = new byte[initialSize];
    }

    public int Count => _count;

    public int Free => _buffer.Length - _count;

    public int Capacity => _buffer.Length;

    public void Advance(int count) => _count += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        Ensure(data.Length);
        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;
    }

    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }

        var count = _count;
        _count = 0;
        _exchange.Connection.Send(_buffer.AsSpan(0, count));
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_count == 0)
        {
            return;
        }

        var count = _count;
        _count = 0;
        await _exchange.Connection.SendAsync(_buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends what is buffered followed by <paramref name="data"/>, in one gathered send where the transport allows it.</summary>
    public ValueTask FlushWithAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var count = _count;
        _count = 0;
        return count == 0
            ? _exchange.Connection.SendAsync(data, cancellationToken)
            : _exchange.Connection.SendAsync(_buffer.AsMemory(0, count), data, cancellationToken);
    }

    public void Discard() => _count = 0;

    /// <summary>Gives up the buffer (an upgraded connection sends no more HTTP); a later write grows a new one.</summary>
    public void Release()
    {
        _count = 0;
        _buffer = [];
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - _count >= sizeHint)
        {
            return;
        }

        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + sizeHint));
    }
}
