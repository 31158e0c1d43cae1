using System.Net.Sockets;

namespace RocketOwin.Internal;

/// <summary>
/// Heartbeat frames the server inserts between the handler's writes (a WebSocket's unsolicited pongs, RFC 6455 §5.5.3),
/// sent by the monitor instead of a runtime timer per connection.
/// </summary>
/// <remarks>
/// <para>
/// A heartbeat must never land inside a frame the handler is writing. The BCL's WebSocket writes each frame with one
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> (header and payload copied into its send buffer), so a
/// write state guards the gap between writes: a heartbeat is sent only when no write is in progress (data flowing is
/// liveness enough), and a write that starts while a heartbeat is still going out waits for it. After a write that begins
/// with a WebSocket close frame's header (RFC 6455 §5.5.1: nothing may follow a close) no heartbeat goes out.
/// </para>
/// <para>
/// The monitor's thread never blocks here: on a plain socket the frame goes out with one non-blocking send(2) (a full
/// socket buffer: skipped, the client is not reading anyway); only a partly sent frame or a TLS record completes
/// asynchronously, and the handler's next write waits for it.
/// </para>
/// </remarks>
internal sealed partial class UpgradedStream
{
    private const int Idle = 0;
    private const int Writing = 1;
    private const int Heartbeat = 2;
    private const int Closed = 4;
    private int _writeState;
    private int _lastWrite; // Environment.TickCount: 4 bytes a socket, and intervals are far below its 24-day wrap
    private Task? _heartbeatRest;

    /// <summary>
    /// Sends <paramref name="frame"/> if nothing was written for <paramref name="intervalMs"/> (Environment.TickCount
    /// milliseconds, <paramref name="now"/>) and no write is in progress; called by the monitor only. Never blocks.
    /// </summary>
    /// <returns>Whether the frame went out (or is going out).</returns>
    public bool TrySendHeartbeat(ReadOnlyMemory<byte> frame, int intervalMs, int now)
    {
        if (unchecked(now - Volatile.Read(ref _lastWrite)) < intervalMs
            || Interlocked.CompareExchange(ref _writeState, Heartbeat, Idle) != Idle)
        {
            return false;
        }

        var sent = 0;
        try
        {
            if (_connection.Tls is null)
            {
                sent = SendNow(_connection, frame.Span, out var error);
                if (error != SocketError.Success)
                {
                    // Would block (the client reads nothing) or the connection failed (its reads will tell the handler).
                    EndHeartbeat();
                    return false;
                }
            }

            BytesOut += frame.Length;
            Volatile.Write(ref _lastWrite, now);
            if (sent == frame.Length)
            {
                EndHeartbeat();
                return true;
            }
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            EndHeartbeat();
            return false;
        }

        // A TLS record, or the rest of a frame the socket took only part of: the handler's next write waits for it.
        var rest = SendHeartbeatRestAsync(frame[sent..]);
        if (!rest.IsCompleted)
        {
            Volatile.Write(ref _heartbeatRest, rest);
        }

        return true;
    }

    private async Task SendHeartbeatRestAsync(ReadOnlyMemory<byte> rest)
    {
        try
        {
            await _connection.SendAsync(rest, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (ClientGone.Is(e))
        {
            // The connection failed: the handler's reads and writes will tell it.
        }
        finally
        {
            EndHeartbeat();
        }
    }

    private void EndHeartbeat()
    {
        Volatile.Write(ref _heartbeatRest, null);
        Interlocked.And(ref _writeState, ~Heartbeat);
    }

    /// <summary>A synchronous write (the application's choice) waits here, on its own thread, for a heartbeat going out.</summary>
    private void BeginWriting()
    {
        var spin = default(SpinWait);
        while (true)
        {
            var state = Volatile.Read(ref _writeState);
            if ((state & Heartbeat) == 0)
            {
                if (Interlocked.CompareExchange(ref _writeState, state | Writing, state) == state)
                {
                    return;
                }
            }
            else if (Volatile.Read(ref _heartbeatRest) is { } rest)
            {
                rest.Wait();
            }
            else
            {
                spin.SpinOnce();
            }
        }
    }

    private void EndWriting(bool closeFrame)
    {
        Volatile.Write(ref _lastWrite, Environment.TickCount);
        if (closeFrame)
        {
            Interlocked.Or(ref _writeState, Closed);
        }

        Interlocked.And(ref _writeState, ~Writing);
    }

    /// <summary>A heartbeat is going out (or a close frame went out): wait for the heartbeat, then write.</summary>
    private async ValueTask WriteAfterHeartbeatAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        var spin = default(SpinWait);
        while (true)
        {
            var state = Volatile.Read(ref _writeState);
            if ((state & Heartbeat) == 0)
            {
                if (Interlocked.CompareExchange(ref _writeState, state | Writing, state) == state)
                {
                    break;
                }
            }
            else if (Volatile.Read(ref _heartbeatRest) is { } rest)
            {
                await rest.ConfigureAwait(false);
            }
            else
            {
                // The monitor is in its one non-blocking send(2): microseconds.
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        var close = IsCloseFrame(buffer.Span);
        try
        {
            await _connection.SendAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EndWriting(close);
        }
    }

    private async ValueTask EndWritingAsync(ValueTask pending, bool closeFrame)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            EndWriting(closeFrame);
        }
    }

    /// <summary>RFC 6455 §5.2: a server frame's first byte holds the opcode in its low 4 bits; 0x8 is close.</summary>
    private static bool IsCloseFrame(ReadOnlySpan<byte> buffer) => !buffer.IsEmpty && (buffer[0] & 0x0F) == 0x8;
}
